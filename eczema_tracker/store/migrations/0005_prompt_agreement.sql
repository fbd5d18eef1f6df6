-- Schema 5: each site's prompt agreement (issue 14), kept so the app does not segment every
-- prompt photo again at each start. A result is only true of the prompt set and the models it
-- was computed with: prompt_set_key names the prompts (photo, photo bytes, mask version, mask
-- bytes) and model_key the models (SegGPT and DINO sources, K, the analysis size); both are
-- opaque text the app builds (app/trust.py) and a lookup must match them exactly.

-- result: JSON {"photo_ids": [...], "ious": [...], "used": [[index, ...], ...], "k_used": n,
-- "note": "..."}: ious[i] is photo_ids[i]'s IoU, segmented with the prompts used[i] (indices
-- into photo_ids). Read back defensively: a row that does not parse is no kept result.
CREATE TABLE prompt_agreement (
    site           TEXT NOT NULL,
    prompt_set_key TEXT NOT NULL,
    model_key      TEXT NOT NULL,
    result         TEXT NOT NULL,
    computed_at    TEXT NOT NULL,
    PRIMARY KEY (site, prompt_set_key, model_key)
);
