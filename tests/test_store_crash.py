"""A process importing photos is SIGKILLed at random moments: nothing is ever half-stored."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from eczema_tracker.store import Store, db, files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

# argv: store folder, batch size, photos... Prints a line per file so kills can be aimed.
IMPORTER = textwrap.dedent(
    """
    import sys
    from eczema_tracker.store import Store, importer
    importer.BATCH_FILES = int(sys.argv[2])
    store = Store.open(sys.argv[1])
    print("ready", flush=True)
    store.import_paths(sys.argv[3:], progress=lambda d, t, m: print(d, flush=True))
    print("done", flush=True)
    """
)


def _rows_and_files(folder: Path) -> tuple[set[str], set[str], str]:
    """Stored names in rows, content files on disk, and integrity_check, read without the Store."""
    conn = sqlite3.connect(folder / db.DB_NAME)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        rows = {r[0] for r in conn.execute("SELECT stored_name FROM photo")}
    finally:
        conn.close()
    return rows, set(files.iter_content_files(folder)), integrity


def test_sigkill_during_import_never_corrupts_or_orphans(tmp_path, eczema_photo_paths):
    photos = [str(p) for p in eczema_photo_paths[:50]]
    folder = tmp_path / "store"
    rng = random.Random(20251126)
    killed_mid_import = 0
    crash_leftovers = 0
    for batch in (1, 3, 8, 32):  # small batches put many commit points in the kill window
        child = subprocess.Popen(
            [sys.executable, "-c", IMPORTER, str(folder), str(batch), *photos],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        kill_after = rng.randint(1, 40)  # files done (the first of a batch can be duplicates)
        for line in child.stdout:
            if line.strip() == "done" or int(line) >= kill_after:
                break
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        finished = child.stdout.read().strip() == "done"
        killed_mid_import += not finished

        rows, on_disk, integrity = _rows_and_files(folder)
        assert integrity == "ok"
        assert rows <= on_disk, f"rows without their file: {rows - on_disk}"
        with Store.open(folder) as store:  # the quick check cleans up after the crash
            assert store.check.missing_files == ()
            assert store.check.unknown_files == ()  # every leftover was a known pending write
            rows_now = {p.stored_name for p in store.photos()}
            crash_leftovers += len(store.check.removed_orphans)
            assert set(files.iter_content_files(folder)) == rows_now
            tmp = folder / files.TMP
            assert not tmp.exists() or not any(tmp.iterdir())
            for photo in store.photos():  # every stored photo is complete and byte-identical
                assert files.sha256_file(store.data_dir / photo.stored_name) == photo.sha256
    assert killed_mid_import >= 1  # the kills really landed during imports
    print(f"{killed_mid_import} imports killed; {crash_leftovers} half-written files removed")

    with Store.open(folder) as store:
        results = store.import_paths(photos)
        assert {r.status for r in results} <= {"imported", "duplicate"}
        assert len(store.photos()) == 50


# Dies by SIGKILL right after the 3rd photo file is in place, before its row is committed.
DIE_AFTER_FILE = textwrap.dedent(
    """
    import os, signal, sys
    from eczema_tracker.store import Store, files, importer
    importer.BATCH_FILES = 1
    original = files.write_file_durably
    calls = []
    def write_then_die(root, stored_name, *args, **kwargs):
        path = original(root, stored_name, *args, **kwargs)
        if stored_name.startswith("photos/"):
            calls.append(stored_name)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return path
    files.write_file_durably = write_then_die
    store = Store.open(sys.argv[1])
    store.import_paths(sys.argv[2:])
    """
)


def test_file_written_but_row_not_committed_is_removed_on_open(tmp_path, eczema_photo_paths):
    folder = tmp_path / "store"
    photos = [str(p) for p in eczema_photo_paths[:5]]
    child = subprocess.run([sys.executable, "-c", DIE_AFTER_FILE, str(folder), *photos])
    assert child.returncode == -signal.SIGKILL
    rows, on_disk, integrity = _rows_and_files(folder)
    assert integrity == "ok" and len(rows) == 2 and len(on_disk) == 3  # one orphan on disk
    (orphan,) = on_disk - rows
    with Store.open(folder) as store:
        assert store.check.removed_orphans == (orphan,)
        assert store.check.unknown_files == () and store.check.missing_files == ()
        assert not (folder / orphan).exists()
        results = store.import_paths(photos)
        assert [r.status for r in results] == ["duplicate"] * 2 + ["imported"] * 3


def test_unknown_files_are_moved_aside_never_deleted(tmp_path):
    folder = tmp_path / "store"
    Store.open(folder).close()
    stray = folder / files.content_name(files.PHOTOS, "ab" * 32, ".jpg")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"someone's photo")
    with Store.open(folder) as store:
        name = stray.relative_to(folder).as_posix()
        assert store.check.unknown_files == (name,)
        assert not stray.exists()
        assert (folder / "orphans" / name).read_bytes() == b"someone's photo"
