"""A small store for the store check's tests (``test_store_check``, ``test_cli_check``): photos,
a painted prompt mask, an analysis with the person's correction, a rating and a severity model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from eczema_tracker.store import Store

SIZE = (48, 64)  # height, width


def build_store(folder: Path) -> dict[str, object]:
    """A store with 3 photos: photo 1 is a painted prompt, 2 is rated and analysed (with a
    corrected mask), 3 is plain; plus an active severity model. Returns names and ids."""
    from safetensors.numpy import save_file

    sources = folder.parent / f"{folder.name}-sources"
    sources.mkdir(parents=True)
    for i in range(3):
        pixels = (np.random.default_rng(i).random((*SIZE, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(sources / f"p{i}.jpg", quality=90)
    save_file({"w": np.ones((4, 8), np.float32)}, str(sources / "m.safetensors"))
    with Store.open(folder) as store:
        ids = [r.photo_id for r in store.import_paths(sorted(sources.glob("p*.jpg")))]
        painted = np.zeros(SIZE, bool)
        painted[5:20, 5:30] = True
        prompt_mask = store.set_prompt_mask(ids[0], painted)
        store.rate(ids[1], 2)
        analysis = store.record_analysis(
            ids[1],
            mask=~painted,
            lesion_area_fraction=float((~painted).mean()),
            features=np.zeros(8, np.float32),
            feature_source="test",
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
        )
        corrected = np.zeros(SIZE, bool)
        corrected[10:30, 10:40] = True
        correction = store.save_corrected_mask(analysis, corrected)
        model_id = store.add_severity_model(sources / "m.safetensors", {"note": "test"})
        photos = {p.id: p for p in store.photos()}
        return {
            "ids": ids,
            "photo_files": {i: photos[i].stored_name for i in ids},
            "shas": {i: photos[i].sha256 for i in ids},
            "prompt_mask": prompt_mask.path.relative_to(folder).as_posix(),
            "correction": correction.path.relative_to(folder).as_posix(),
            "model": store.severity_model(model_id).path.relative_to(folder).as_posix(),
        }


def copy_of(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the store built in ``template``, in ``tmp_path``."""
    folder = tmp_path / "store"
    shutil.copytree(template, folder)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, by relative name."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
