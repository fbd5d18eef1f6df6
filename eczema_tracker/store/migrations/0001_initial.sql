-- Schema 1: photos, masks (versioned prompts), analyses, self-ratings, severity models.
-- Applied inside one BEGIN EXCLUSIVE transaction together with `PRAGMA user_version = 1`.
-- Times are ISO-8601 text. File paths are relative to the store folder.

CREATE TABLE photo (
    id              INTEGER PRIMARY KEY,
    sha256          TEXT    NOT NULL UNIQUE,       -- of the original bytes, kept byte-identical
    stored_name     TEXT    NOT NULL,              -- e.g. photos/ab/abcd....jpg
    original_name   TEXT    NOT NULL,              -- file name it was imported from
    format          TEXT    NOT NULL,              -- JPEG, HEIF, PNG, ...
    byte_size       INTEGER NOT NULL,
    width           INTEGER NOT NULL,              -- upright (EXIF orientation applied)
    height          INTEGER NOT NULL,
    taken_at        TEXT    NOT NULL,              -- ISO-8601, local wall-clock (+offset if known)
    taken_at_source TEXT    NOT NULL CHECK (taken_at_source IN ('exif', 'file', 'user')),
    imported_at     TEXT    NOT NULL,
    site            TEXT    NOT NULL DEFAULT 'unspecified',
    note            TEXT    NOT NULL DEFAULT '',
    current_analysis_id INTEGER                    -- newest analysis (denormalised for speed)
);
CREATE INDEX photo_by_taken ON photo (taken_at DESC, id DESC);
CREATE INDEX photo_by_site_taken ON photo (site, taken_at DESC, id DESC);

-- A mask PNG file (content-addressed by the sha256 of the PNG bytes).
CREATE TABLE mask_file (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT    NOT NULL UNIQUE,
    stored_name   TEXT    NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    area_fraction REAL    NOT NULL,
    created_at    TEXT    NOT NULL
);

-- Every version of every prompt mask ever saved for a photo (the newest is current).
CREATE TABLE prompt_mask_version (
    id         INTEGER PRIMARY KEY,
    photo_id   INTEGER NOT NULL REFERENCES photo (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    mask_id    INTEGER NOT NULL REFERENCES mask_file (id),
    origin     TEXT    NOT NULL,                   -- 'painted' or 'analysis:<id>'
    created_at TEXT    NOT NULL,
    UNIQUE (photo_id, version)
);

-- Which photos are prompts now (their site is the photo's site).
CREATE TABLE prompt (
    photo_id INTEGER PRIMARY KEY REFERENCES photo (id) ON DELETE CASCADE,
    since    TEXT    NOT NULL
);

-- Last change of the prompt set of each site; seq is a store-wide increasing counter.
CREATE TABLE site_prompt_change (
    site       TEXT    PRIMARY KEY,
    seq        INTEGER NOT NULL,
    changed_at TEXT    NOT NULL
);

CREATE TABLE severity_model (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT    NOT NULL,
    stored_name TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,                  -- JSON object
    created_at  TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX severity_model_one_active ON severity_model (active) WHERE active = 1;

CREATE TABLE analysis (
    id                   INTEGER PRIMARY KEY,
    photo_id             INTEGER NOT NULL REFERENCES photo (id) ON DELETE CASCADE,
    created_at           TEXT    NOT NULL,
    site                 TEXT    NOT NULL,         -- the photo's site when analysed
    prompt_seq           INTEGER NOT NULL,         -- store-wide prompt-change counter then
    mask_id              INTEGER NOT NULL REFERENCES mask_file (id),
    corrected_mask_id    INTEGER REFERENCES mask_file (id),
    lesion_area_fraction REAL    NOT NULL,
    probabilities        TEXT,                     -- JSON list or NULL
    score                REAL,
    severity_class       INTEGER,
    features             BLOB,                     -- raw array bytes (little-endian)
    features_dtype       TEXT,
    features_shape       TEXT,                     -- JSON list
    feature_source       TEXT,
    model_sources        TEXT    NOT NULL,         -- JSON object
    k                    INTEGER NOT NULL,
    prompt_photo_ids     TEXT    NOT NULL DEFAULT '[]',
    severity_model_id    INTEGER REFERENCES severity_model (id) ON DELETE SET NULL
);
CREATE INDEX analysis_by_photo ON analysis (photo_id, id);

CREATE TABLE rating (
    id       INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photo (id) ON DELETE CASCADE,
    rating   INTEGER CHECK (rating IS NULL OR rating BETWEEN 0 AND 3),  -- NULL: cleared
    rated_at TEXT    NOT NULL
);
CREATE INDEX rating_by_photo ON rating (photo_id, id);

-- Files being written or deleted: listed (committed) before the file is touched, so that a
-- crash leaves only files the next open knows to remove. Never user data.
CREATE TABLE pending_file (
    stored_name TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL
);
