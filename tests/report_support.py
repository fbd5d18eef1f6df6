"""A populated store for the report tests: synthetic photos (PIL), masks, analyses scored by a
personal model, a prompt, a correction, check-ins, daily numbers, a treatment course, a flare
and notes. Dates are relative to today (the store refuses dates in the future)."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from eczema_tracker.store import Store

SITES = ("left arm", "right knee crease")
NAME = "Alex Example"


def synthetic_photo(path: Path, seed: int, size: tuple[int, int] = (320, 240)) -> Path:
    """A skin-toned JPEG with a reddish patch (its place and size vary with ``seed``)."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = np.empty((h, w, 3), np.uint8)
    base[...] = (224, 180, 150)
    base = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    im = Image.fromarray(base)
    draw = ImageDraw.Draw(im)
    r = int(min(w, h) * (0.12 + 0.02 * (seed % 5)))
    cx, cy = w // 2 + (seed % 7) * 3, h // 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(190, 80, 70))
    im.save(path, format="JPEG", quality=88)
    return path


def ellipse_mask(width: int, height: int, fraction: float) -> np.ndarray:
    """A centred disc covering about ``fraction`` of the image."""
    yy, xx = np.mgrid[0:height, 0:width]
    r = np.sqrt(fraction * width * height / np.pi)
    return (xx - width / 2) ** 2 + (yy - height / 2) ** 2 <= r * r


def populate(
    store: Store,
    folder: Path,
    *,
    photos_per_site: int = 4,
    start: date | None = None,
    size: tuple[int, int] = (320, 240),
) -> dict:
    """Fill ``store``; returns the range (``from``, ``to``) and what was put in."""
    today = date.today()
    first = start or today - timedelta(days=60)
    folder.mkdir(parents=True, exist_ok=True)
    model_file = folder / "personal.safetensors"
    model_file.write_bytes(b"not a real model, the store only copies it")
    model_id = store.add_severity_model(
        model_file,
        {
            "kind": "personal",
            "cv_accuracy": 0.75,
            "cv_scheme": "stratified 3-fold cross-validation",
            "cv_confusion": [[0, 0, 0, 0], [0, 4, 1, 0], [0, 1, 3, 0], [0, 0, 1, 2]],
            "majority_agreed": 5,
            "majority_rating": 1,
            "activated_by": "check",
            "n_train": 12,
        },
    )
    seed = 0
    for s, site in enumerate(SITES):
        paths = []
        for i in range(photos_per_site):
            seed += 1
            paths.append(synthetic_photo(folder / f"{site.replace(' ', '_')}_{i}.jpg", seed, size))
        results = store.import_paths(paths, site=site)
        ids = [int(r.photo_id) for r in results if r.photo_id is not None]
        for i, photo_id in enumerate(ids):
            when = first + timedelta(days=int(i * 50 / max(1, photos_per_site - 1)) + s)
            store.update_photo(photo_id, taken_at=datetime(when.year, when.month, when.day, 9, 30))
            photo = store.photo(photo_id)
            fraction = 0.12 - 0.02 * i + 0.01 * s
            store.record_analysis(
                photo_id,
                mask=ellipse_mask(photo.width, photo.height, fraction),
                lesion_area_fraction=fraction,
                features=None,
                feature_source=None,
                probabilities=[0.1, 0.2, 0.5, 0.2],
                score=2.4 - 0.4 * i,
                model_sources={"dino": "test"},
                k=1,
                severity_model_id=model_id,
            )
        if s == 0:
            photo = store.photo(ids[0])
            store.update_photo(ids[0], note="photo note: worse after swimming")
            analysis = store.current_analysis(ids[1])
            assert analysis is not None
            store.save_corrected_mask(analysis.id, ellipse_mask(photo.width, photo.height, 0.08))
        else:  # the first photo of the second site is a prompt: its painted mask is shown
            photo = store.photo(ids[0])
            store.set_prompt_mask(ids[0], ellipse_mask(photo.width, photo.height, 0.05))
    for week in range(8):
        day = first + timedelta(days=7 * week)
        store.record_day(day, answers=[3, 2, 1, 1, 2, 2, 3] if week < 4 else [1, 1, 0, 0, 1, 1, 2])
    for n in range(0, 56, 2):
        store.set_daily(first + timedelta(days=n), itch=max(0, 8 - n // 8), sleep_loss=n % 5)
    cream = store.add_treatment("Betnovate 0.1% cream", "topical_corticosteroid", "potent")
    emollient = store.add_treatment("Epaderm", "emollient")
    store.add_course(cream.id, first + timedelta(days=3), first + timedelta(days=17), times_a_day=2)
    store.add_course(emollient.id, first - timedelta(days=30), None, times_a_day=3)
    store.set_day_mark(first + timedelta(days=10), flare=True, note="day note: flare after a cold")
    return {"from": first, "to": first + timedelta(days=58), "model_id": model_id}


def set_mtime(path: Path, when: datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))
