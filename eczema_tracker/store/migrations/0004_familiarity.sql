-- Schema 4: how far each analysed photo was from its site's prompts (issue 14), and the
-- whole-image retrieval features of each photo, kept so the farthest unannotated photo (the
-- one to paint next) and a site's prompt spread need no new model pass.

-- The nearest-prompt distance (DINO retrieval [CLS], in the metric of ml.familiarity), the
-- prompts' own spread it was compared with (NULL: a single prompt, nothing to calibrate with)
-- and the verdict: 1 like the examples, 0 unlike them, NULL undecided. Analyses made before
-- this schema keep NULL in all three.
ALTER TABLE analysis ADD COLUMN nearest_prompt_distance REAL
    CHECK (nearest_prompt_distance IS NULL OR nearest_prompt_distance >= 0);
ALTER TABLE analysis ADD COLUMN prompt_distance_scale REAL
    CHECK (prompt_distance_scale IS NULL OR prompt_distance_scale > 0);
ALTER TABLE analysis ADD COLUMN familiar INTEGER CHECK (familiar IS NULL OR familiar IN (0, 1));

-- The whole-image retrieval features (raw last-layer DINO [CLS] of the photo decoded at the
-- analysis size) of a photo, per backbone (feature_source); raw little-endian array bytes as
-- analysis.features. A photo's bytes never change, so a row stays true until the photo goes.
CREATE TABLE retrieval_features (
    photo_id       INTEGER NOT NULL REFERENCES photo (id) ON DELETE CASCADE,
    feature_source TEXT    NOT NULL,
    features       BLOB    NOT NULL,
    features_dtype TEXT    NOT NULL,
    features_shape TEXT    NOT NULL,                -- JSON list
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (photo_id, feature_source)
);
