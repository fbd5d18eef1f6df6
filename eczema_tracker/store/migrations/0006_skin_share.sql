-- Schema 6: the lesion as a share of the visible skin (issue 24). A mask may mark healthy skin
-- (value 128 in its PNG; see core/mask_labels.py) next to the lesion; when a site's prompts carry
-- skin the segmenter finds both, and an analysis keeps lesion / (lesion + healthy skin), which
-- framing a photo closer or wider does not change. NULL: the prompts carried no skin (the
-- lesion is then only a share of the photo, lesion_area_fraction), and every analysis made
-- before this schema.
ALTER TABLE analysis ADD COLUMN lesion_share_of_skin REAL
    CHECK (lesion_share_of_skin IS NULL OR (lesion_share_of_skin >= 0 AND lesion_share_of_skin <= 1));

-- The share of the photo each stored mask marks as healthy skin (its lesion share is
-- area_fraction), so a mask's lesion share of the skin, area / (area + skin), needs no decoding:
-- the person's prompt masks and corrections too. Every mask stored before this schema was 0/255:
-- no skin, 0.
ALTER TABLE mask_file ADD COLUMN skin_fraction REAL NOT NULL DEFAULT 0
    CHECK (skin_fraction >= 0 AND skin_fraction <= 1);
