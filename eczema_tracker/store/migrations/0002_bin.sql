-- Schema 2: a bin for deleted photos.
-- A photo with deleted_at set is in the bin: hidden from the library, the timeline, the sites
-- and the prompts, its files kept until the bin is emptied (then its rows and files go).

ALTER TABLE photo ADD COLUMN deleted_at TEXT;          -- ISO-8601, NULL: not in the bin
CREATE INDEX photo_in_bin ON photo (deleted_at) WHERE deleted_at IS NOT NULL;
