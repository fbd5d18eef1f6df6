-- Schema 6: the lesion as a share of the visible skin (issue 24). A mask may mark healthy skin
-- (value 128 in its PNG; see core/mask_labels.py) next to the lesion; when a site's prompts carry
-- skin the segmenter finds both, and an analysis keeps lesion / (lesion + healthy skin), which
-- framing a photo closer or wider does not change. NULL: the prompts carried no skin (the
-- lesion is then only a share of the photo, lesion_area_fraction), and every analysis made
-- before this schema.
ALTER TABLE analysis ADD COLUMN lesion_share_of_skin REAL
    CHECK (lesion_share_of_skin IS NULL OR (lesion_share_of_skin >= 0 AND lesion_share_of_skin <= 1));
