"""``export_csv``: one CSV per record kind with the documented columns and the stored values."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from eczema_tracker.store import BackupError, Store, csv_export
from eczema_tracker.store.csv_export import CSV_FILES, README_NAME, export_csv


def _read(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture()
def store(tmp_path, eczema_photo_paths):
    with Store.open(tmp_path / "store") as s:
        s.import_paths(eczema_photo_paths[:2], site="left arm")
        first_id, second_id = sorted(p.id for p in s.photos())
        photo = s.photo(first_id)
        mask = np.zeros((photo.height, photo.width), bool)
        mask[0:20, 0:20] = True
        s.record_analysis(
            photo.id,
            mask=mask,
            lesion_area_fraction=0.25,
            features=None,
            feature_source=None,
            probabilities=[0.1, 0.2, 0.6, 0.1],
            score=1.75,
            model_sources={"dino": "test"},
            k=2,
            prompt_photo_ids=[second_id],
        )
        s.rate(photo.id, 2)
        s.rate(photo.id, None)
        s.move_to_bin([second_id])
        s.record_day(
            "2026-04-06", answers=[4, None, 1, 0, 2, 3, 3], itch=7, flare=True, note='hot, "dry"'
        )
        s.add_checkin("2026-04-13", [None, None, 0, 0, 0, 0, 0])
        cream = s.add_treatment("Betnovate", "topical_corticosteroid", "potent")
        s.add_course(cream.id, "2026-04-01", "2026-04-10", times_a_day=2)
        yield s


def test_every_file_has_its_documented_header_and_the_stored_values(store, tmp_path):
    out = tmp_path / "csv"
    summary = export_csv(store, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [name for name, _ in CSV_FILES] + [README_NAME]
    )
    for name, columns in CSV_FILES:
        with open(out / name, encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == [column for column, _ in columns]
    assert summary.rows == {
        "photos.csv": 2,
        "analyses.csv": 1,
        "ratings.csv": 2,
        "checkins.csv": 2,
        "daily_numbers.csv": 1,
        "treatments.csv": 1,
        "courses.csv": 1,
        "day_marks.csv": 1,
    }
    photos = _read(out / "photos.csv")
    assert [p["site"] for p in photos] == ["left arm", "left arm"]
    assert photos[0]["deleted_at"] == "" and photos[1]["deleted_at"].startswith("20")
    (analysis,) = _read(out / "analyses.csv")
    assert (analysis["photo_id"], analysis["current"], analysis["lesion_area_fraction"]) == (
        "1",
        "1",
        "0.25",
    )
    assert json.loads(analysis["probabilities"]) == [0.1, 0.2, 0.6, 0.1]
    assert (analysis["severity_class"], analysis["score"], analysis["corrected_area_fraction"]) == (
        "2",
        "1.75",
        "",
    )
    assert [r["rating"] for r in _read(out / "ratings.csv")] == ["2", ""]
    first, second = _read(out / "checkins.csv")
    assert (first["date"], first["itchy"], first["sleep_disturbed"], first["dry"]) == (
        "2026-04-06",
        "4",
        "",
        "3",
    )
    assert (first["poem_total"], first["poem_band"], first["unanswered"]) == ("13", "moderate", "1")
    assert (second["poem_total"], second["poem_band"], second["unanswered"]) == ("", "", "2")
    assert _read(out / "daily_numbers.csv") == [
        {"date": "2026-04-06", "itch": "7", "sleep_loss": ""}
    ]
    assert _read(out / "day_marks.csv") == [
        {"date": "2026-04-06", "flare": "1", "note": 'hot, "dry"'}
    ]
    (treatment,) = _read(out / "treatments.csv")
    assert (treatment["name"], treatment["kind"], treatment["potency"]) == (
        "Betnovate",
        "topical_corticosteroid",
        "potent",
    )
    assert _read(out / "courses.csv") == [
        {
            "course_id": "1",
            "treatment_id": "1",
            "treatment": "Betnovate",
            "start": "2026-04-01",
            "end": "2026-04-10",
            "times_a_day": "2",
        }
    ]
    readme = (out / README_NAME).read_text(encoding="utf-8")
    for name, columns in CSV_FILES:
        assert name in readme
        for column, meaning in columns:
            assert f"{column}  " in readme and meaning in readme


def test_a_failed_write_leaves_each_file_whole(store, tmp_path, monkeypatch):
    out = tmp_path / "csv"
    export_csv(store, out)
    before = (out / "checkins.csv").read_bytes()
    store.add_checkin("2026-04-20", [0] * 7)

    def failing_rows(_store):
        yield (99, "2026-04-20", 0, 0, 0, 0, 0, 0, 0, 0, "clear or almost clear", 0, "x")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(csv_export._ROWS, "checkins.csv", failing_rows)
    with pytest.raises(BackupError, match="No space left on device"):
        export_csv(store, out)
    assert (out / "checkins.csv").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_file_in_the_way_is_refused(store, tmp_path):
    target = tmp_path / "taken"
    target.write_text("mine")
    with pytest.raises(BackupError, match="is a file, not a folder"):
        export_csv(store, target)
    assert target.read_text() == "mine"
