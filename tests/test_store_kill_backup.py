"""``export`` and ``restore --force`` SIGKILLed at every file-system step: nothing half-done.

The child counts its file-system mutations (rename, unlink, rmdir, mkdir, file creation) and
SIGKILLs itself just before the N-th one; N runs over every step of the swap and a seeded
sample of the rest, so a kill lands between the two renames, inside the old store's deletion,
mid-extraction, mid-zip and while the replaced store is being backed up. After each kill: a
reader sees the old store, the new one or a sentence saying a restore was cut short, and moves
nothing; the next open for writing finishes or undoes the swap: the old store whole or the new one
complete, never a mix, the person's own files untouched, no leftovers but (maybe) a complete
dated zip of the replaced store; an export leaves the old backup or the complete new one under
the final name, and the next export removes its leftovers.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from eczema_tracker.store import Store, StoreError, db, files
from eczema_tracker.store.backup.export import export_store
from eczema_tracker.store.backup.restore import restore_store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

# argv: kill_at (0: never; print the count), export|restore, args...
CHILD = textwrap.dedent(
    """
    import os, shutil, signal, sys, tempfile
    kill_at = int(sys.argv[1])
    # a fresh ledger of outputs (core/output_files) each run: the same steps each run
    os.environ["ECZEMA_TRACKER_CACHE_DIR"] = tempfile.mkdtemp()
    count = 0
    def step():
        global count
        count += 1
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    def counted(real, creates=False):
        def wrapper(*args, **kwargs):
            if not creates or args[1] & os.O_CREAT:
                step()
            return real(*args, **kwargs)
        return wrapper
    from eczema_tracker.store.backup import export as backup
    from eczema_tracker.store.backup.export import export_store
    from eczema_tracker.store.backup.restore import restore_store
    add_member = backup._add_member
    def counted_member(*args):
        step()  # a kill before each member: the zip is half-written
        return add_member(*args)
    backup._add_member = counted_member
    for name in ("replace", "rename", "unlink", "rmdir", "mkdir"):
        setattr(os, name, counted(getattr(os, name)))
    os.open = counted(os.open, creates=True)
    if sys.argv[2] == "export":
        export_store(sys.argv[3], sys.argv[4], overwrite=True)
    else:
        restore_store(sys.argv[3], sys.argv[4], force=True)
    print(count, flush=True)
    """
)


def _run_child(kill_at: int, *args: Path | str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(kill_at), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _steps(*args: Path | str) -> int:
    child = _run_child(0, *args)
    assert child.returncode == 0, child.stderr
    return int(child.stdout.strip())


def _kill_points(total: int, swap_steps: int, seed: int, sample: int) -> list[int]:
    """The last ``swap_steps`` steps (the swap and its cleanup), and a seeded sample before."""
    tail = list(range(max(1, total - swap_steps + 1), total + 1))
    head = range(1, max(1, total - swap_steps + 1))
    return sorted(random.Random(seed).sample(head, min(sample, len(head))) + tail)


def _content(folder: Path) -> dict:
    """Rows and files of a store, read without the Store; every row's file checked by hash."""
    conn = sqlite3.connect(folder / db.DB_NAME)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        photos = conn.execute("SELECT sha256, stored_name FROM photo ORDER BY sha256").fetchall()
        masks = conn.execute("SELECT sha256, stored_name FROM mask_file ORDER BY 1").fetchall()
    finally:
        conn.close()
    for sha, name in photos + masks:
        assert files.sha256_file(folder / name) == sha, name
    assert set(files.iter_content_files(folder)) == {n for _, n in photos + masks}
    return {"photos": photos, "masks": masks}


def _make_store(folder: Path, photos: list[Path]) -> None:
    import numpy as np

    with Store.open(folder) as store:
        store.import_paths(photos)
        first = store.photos()[0]
        mask = np.zeros((first.height, first.width), bool)
        mask[2:20, 2:20] = True
        store.set_prompt_mask(first.id, mask)


def _reader_then_writer(live: Path, expected: tuple[dict, ...]) -> dict:
    """A reader moves nothing and sees one of ``expected`` (or is told); a writer finishes."""
    shape = sorted(p.name for p in live.parent.iterdir())
    try:
        with Store.open(live, readonly=True):
            assert _content(live) in expected
    except StoreError as exc:
        assert "restore" in str(exc) or "no photo store" in str(exc), exc
    assert sorted(p.name for p in live.parent.iterdir()) == shape  # the reader moved nothing
    with Store.open(live) as store:
        assert store.check.missing_files == ()
    return _content(live)


def _only_the_store_and_whole_zips(live: Path, kill_at: int) -> None:
    for entry in live.parent.iterdir():
        if entry.name.startswith(".export-"):  # a killed export; the next one removes it
            continue
        if entry.name != live.name:
            assert entry.name.startswith(f"{live.name}-replaced-") and entry.suffix == ".zip"
            with zipfile.ZipFile(entry) as zf:
                assert zf.testzip() is None, (kill_at, entry)


def test_restore_force_killed_at_every_swap_step(tmp_path, eczema_photo_paths):
    source = tmp_path / "source"
    _make_store(source, eczema_photo_paths[10:14])
    backup = tmp_path / "new.zip"
    export_store(source, backup)
    new = _content(source)
    template = tmp_path / "template"
    _make_store(template, eczema_photo_paths[:2])
    old = _content(template)
    live = tmp_path / "live" / "store"

    scratch = tmp_path / "scratch" / "store"
    shutil.copytree(template, scratch)
    total = _steps("restore", backup, scratch)  # every step of a restore --force over a store
    points = _kill_points(total, swap_steps=20, seed=20261202, sample=6)
    outcomes = {"old": 0, "new": 0}
    for kill_at in points:
        shutil.rmtree(live.parent, ignore_errors=True)
        shutil.copytree(template, live)
        (live / "thesis.txt").write_text("mine")  # a person's file beside the store
        child = _run_child(kill_at, "restore", backup, live)
        assert child.returncode == -signal.SIGKILL, (kill_at, child.stderr[-500:])
        state = _reader_then_writer(live, (old, new))
        assert state in (old, new), f"a mix after a kill at step {kill_at}"
        outcomes["new" if state == new else "old"] += 1
        _only_the_store_and_whole_zips(live, kill_at)
        assert (live / "thesis.txt").read_text() == "mine", kill_at
        assert not (live / ".restore-complete").exists()
    assert outcomes["old"] >= 1 and outcomes["new"] >= 1, outcomes
    print(f"restore --force: {len(points)} kills of {total} steps; outcomes {outcomes}")
    restore_store(backup, live, force=True)  # the operation can be redone
    assert _content(live) == new


def test_interrupted_first_restore_is_finished_on_open(tmp_path, eczema_photo_paths):
    source = tmp_path / "source"
    _make_store(source, eczema_photo_paths[20:22])
    backup = tmp_path / "b.zip"
    export_store(source, backup)
    target = tmp_path / "fresh" / "store"
    total = _steps("restore", backup, tmp_path / "probe" / "store")
    new = _content(source)
    empty = {"photos": [], "masks": []}
    outcomes = {"nothing": 0, "new": 0}
    # The last steps of a restore into a folder that did not exist: the swap and its cleanup.
    for kill_at in range(max(1, total - 11), total + 1):
        child = _run_child(kill_at, "restore", backup, target)
        assert child.returncode == -signal.SIGKILL
        state = _reader_then_writer(target, (new,))
        assert state in (empty, new), kill_at
        outcomes["new" if state == new else "nothing"] += 1
        assert [p.name for p in target.parent.iterdir()] == ["store"], kill_at
        shutil.rmtree(target.parent)  # each run makes the parent too, as the probe did
    assert outcomes["new"] >= 1, outcomes


def _zip_state(out: Path, old_bytes: bytes) -> str:
    data = out.read_bytes()
    if data == old_bytes:
        return "old"
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
    return "new"


def test_export_killed_at_every_step_never_leaves_a_partial_zip(tmp_path, eczema_photo_paths):
    folder = tmp_path / "store"
    _make_store(folder, eczema_photo_paths[30:34])
    out_dir = tmp_path / "backups"
    out_dir.mkdir()
    out = out_dir / "backup.zip"
    old_bytes = b"PK\x05\x06" + bytes(18)  # an older (empty) backup under the final name
    total = _steps("export", folder, tmp_path / "probe.zip")
    points = _kill_points(total, swap_steps=5, seed=7, sample=5)
    outcomes = {"old": 0, "new": 0}
    for kill_at in points:
        for leftover in out_dir.glob(".export-*"):  # the same steps each run; kept after the last
            shutil.rmtree(leftover)
        out.write_bytes(old_bytes)
        child = _run_child(kill_at, "export", folder, out)
        assert child.returncode == -signal.SIGKILL, (kill_at, child.stderr[-500:])
        outcomes[_zip_state(out, old_bytes)] += 1
    assert outcomes["old"] >= 1, outcomes
    # the last kill may come after the work folder went (the ledger entry goes last): one more
    # kill, early, leaves the work folder for the next export to clean
    assert _run_child(total // 2, "export", folder, out).returncode == -signal.SIGKILL
    assert any(p.name.startswith(".export-") for p in out_dir.iterdir())  # a kill's leftover
    summary = export_store(folder, out, overwrite=True)  # the next export cleans up, succeeds
    assert summary.missing == ()
    assert [p.name for p in out_dir.iterdir()] == ["backup.zip"]
    restored = tmp_path / "restored"
    restore_store(out, restored)
    assert _content(restored) == _content(folder)
    print(f"export: {len(points)} kills of {total} steps; outcomes {outcomes}")
