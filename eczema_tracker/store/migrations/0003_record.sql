-- Schema 3: the patient's record beside the photos: POEM check-ins, daily itch and sleep
-- numbers, treatments and their courses, and day marks (flare, note).
-- Dates are ISO-8601 calendar dates (YYYY-MM-DD, the person's local date); times are ISO-8601.
-- Ranges are CHECKed here as well as in the code, so no writer can store an impossible value.

-- A weekly POEM check-in for the whole body. An answer is 0-4 (NULL: unanswered); the total and
-- band are computed on read (eczema_tracker.poem), never stored.
CREATE TABLE checkin (
    id              INTEGER PRIMARY KEY,
    day             TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    itchy           INTEGER CHECK (itchy IS NULL OR itchy BETWEEN 0 AND 4),
    sleep_disturbed INTEGER CHECK (sleep_disturbed IS NULL OR sleep_disturbed BETWEEN 0 AND 4),
    bleeding        INTEGER CHECK (bleeding IS NULL OR bleeding BETWEEN 0 AND 4),
    weeping         INTEGER CHECK (weeping IS NULL OR weeping BETWEEN 0 AND 4),
    cracked         INTEGER CHECK (cracked IS NULL OR cracked BETWEEN 0 AND 4),
    flaking         INTEGER CHECK (flaking IS NULL OR flaking BETWEEN 0 AND 4),
    dry             INTEGER CHECK (dry IS NULL OR dry BETWEEN 0 AND 4),
    created_at      TEXT    NOT NULL
);
CREATE INDEX checkin_by_day ON checkin (day, id);

-- Daily numbers: peak itch over the last 24 h and sleep loss, each NRS 0-10, both optional.
CREATE TABLE daily_numbers (
    day        TEXT    PRIMARY KEY CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    itch       INTEGER CHECK (itch IS NULL OR itch BETWEEN 0 AND 10),
    sleep_loss INTEGER CHECK (sleep_loss IS NULL OR sleep_loss BETWEEN 0 AND 10),
    updated_at TEXT    NOT NULL
);

-- The person's treatments; a potency only for a topical corticosteroid (and optional there).
CREATE TABLE treatment (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
    kind       TEXT    NOT NULL CHECK (kind IN ('emollient', 'topical_corticosteroid',
                   'topical_calcineurin_inhibitor', 'systemic_biologic', 'antihistamine', 'other')),
    potency    TEXT    CHECK (potency IS NULL OR (kind = 'topical_corticosteroid'
                   AND potency IN ('mild', 'moderate', 'potent', 'very_potent'))),
    created_at TEXT    NOT NULL
);

-- A course of a treatment: from a start date, to an optional end date (not before the start).
CREATE TABLE course (
    id           INTEGER PRIMARY KEY,
    treatment_id INTEGER NOT NULL REFERENCES treatment (id),
    start_day    TEXT    NOT NULL
                     CHECK (start_day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    end_day      TEXT    CHECK (end_day IS NULL OR (end_day >= start_day
                     AND end_day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]')),
    times_a_day  INTEGER CHECK (times_a_day IS NULL OR times_a_day BETWEEN 1 AND 24),
    created_at   TEXT    NOT NULL
);
CREATE INDEX course_by_treatment ON course (treatment_id, start_day);
CREATE INDEX course_by_start ON course (start_day, id);

-- A mark on a day: a flare, and/or a free-text note.
CREATE TABLE day_mark (
    day        TEXT    PRIMARY KEY CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    flare      INTEGER NOT NULL DEFAULT 0 CHECK (flare IN (0, 1)),
    note       TEXT    NOT NULL DEFAULT '',
    updated_at TEXT    NOT NULL
);
