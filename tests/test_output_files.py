"""The one set of target rules for every output, and temp files that never outlive a write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from eczema_tracker.core import output_files
from eczema_tracker.core.output_files import (
    OutputFileError,
    check_output_target,
    sweep_stale_outputs,
    writing_output,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ECZEMA_TRACKER_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def store_root(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    (root / "store.sqlite3").write_bytes(b"the live database")
    return root


def test_a_new_file_in_an_existing_folder_is_allowed(tmp_path, store_root):
    assert check_output_target(tmp_path / "r.pdf", store_root=store_root) == tmp_path / "r.pdf"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda t, s: s / "store.sqlite3", "inside the photo store"),
        (lambda t, s: s / "new.pdf", "inside the photo store"),
        (lambda t, s: s, "inside the photo store"),
        (lambda t, s: _link(t / "via", s) / "store.sqlite3", "inside the photo store"),
        (lambda t, s: _link(t / "link.pdf", t / "elsewhere.pdf"), "symbolic link"),
        (lambda t, s: _folder(t / "a-folder"), "is a folder"),
        (lambda t, s: Path("/dev/null"), "not a regular file"),
        (lambda t, s: _fifo(t / "pipe"), "not a regular file"),
        (lambda t, s: t / "missing" / "r.pdf", "does not exist"),
        (lambda t, s: _file(t / "plain") / "r.pdf", "is not a folder"),
        (lambda t, s: _file(t / "old.pdf"), "already exists"),
    ],
    ids=[
        "the database",
        "a new file in the store",
        "the store folder",
        "the store through a linked folder",
        "a symbolic link",
        "a folder",
        "a device",
        "a pipe",
        "a missing folder",
        "under a file",
        "an existing file without overwrite",
    ],
)
def test_refused_targets(tmp_path, store_root, make, words):
    target = make(tmp_path, store_root)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(OutputFileError, match=words) as caught:
        check_output_target(target, store_root=store_root)
    assert "\n" not in caught.value.message
    assert sorted(os.listdir(tmp_path)) == before
    assert (store_root / "store.sqlite3").read_bytes() == b"the live database"


def test_an_existing_file_is_replaced_only_when_allowed(tmp_path, store_root):
    old = _file(tmp_path / "old.pdf")
    assert check_output_target(old, store_root=store_root, overwrite=True) == old
    assert check_output_target(tmp_path / "new" / "b.zip", store_root=None, make_folder=True)


def test_writing_replaces_the_target_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "r.pdf"
    with writing_output(target) as temp:
        assert output_files.TEMP_FILE_NAME.match(temp.name)
        temp.write_bytes(b"%PDF new")
        assert len(list((tmp_path / "cache" / output_files.LEDGER_FOLDER).iterdir())) == 1
    assert target.read_bytes() == b"%PDF new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "r.pdf"]
    assert list((tmp_path / "cache" / output_files.LEDGER_FOLDER).iterdir()) == []


def test_a_failed_write_is_one_sentence_and_leaves_the_old_file(tmp_path, monkeypatch):
    target = _file(tmp_path / "r.pdf")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output_files, "fsync_file", full_disk)
    with pytest.raises(OutputFileError, match="no space left on the disk"):
        with writing_output(target) as temp:
            temp.write_bytes(b"half a report")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "r.pdf"]


def test_a_folder_under_proc_is_one_sentence(tmp_path):
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    with pytest.raises(OutputFileError, match="Could not write /proc/r.pdf"):
        with writing_output(Path("/proc/r.pdf")) as temp:
            temp.write_bytes(b"x")


_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from eczema_tracker.core.output_files import writing_output
    how = sys.argv[2]
    if how == "term":  # what the CLI does: SIGTERM ends the process through SystemExit
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    with writing_output(Path(sys.argv[1])) as temp:
        temp.write_bytes(b"%PDF the whole record")
        print(temp, flush=True)
        if how == "exit":
            sys.exit(3)
        os.kill(os.getpid(), signal.SIGKILL if how == "kill" else signal.SIGTERM)
        signal.pause()
    """
)


def _child(tmp_path: Path, how: str) -> tuple[subprocess.CompletedProcess, Path]:
    env = {**os.environ, "ECZEMA_TRACKER_CACHE_DIR": str(tmp_path / "cache")}
    target = tmp_path / "out" / "r.pdf"
    target.parent.mkdir(exist_ok=True)
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(target), how],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return child, Path(child.stdout.strip())


@pytest.mark.parametrize("how", ["term", "exit"])
def test_a_caught_exit_removes_the_temp_file(tmp_path, how):
    child, temp = _child(tmp_path, how)
    assert child.returncode in (3, 143), child.stderr
    assert temp.name and not temp.exists()
    assert list((tmp_path / "out").iterdir()) == []


def test_a_killed_writer_is_swept_at_the_next_write_anywhere(tmp_path):
    child, temp = _child(tmp_path, "kill")
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert temp.exists()  # SIGKILL cannot be caught
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with writing_output(elsewhere / "other.pdf") as new:
        new.write_bytes(b"%PDF")
    assert not temp.exists()
    assert list((tmp_path / "out").iterdir()) == []
    assert sweep_stale_outputs() == 0


def test_the_sweep_leaves_a_running_write_and_foreign_files_alone(tmp_path):
    mine = _file(tmp_path / "notes.txt")
    with writing_output(tmp_path / "r.pdf") as temp:
        temp.write_bytes(b"%PDF")
        assert sweep_stale_outputs() == 0
        assert temp.exists()
    assert mine.exists()


def _link(link: Path, to: Path) -> Path:
    link.symlink_to(to)
    return link


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _file(path: Path) -> Path:
    path.write_bytes(b"old")
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_an_earlier_versions_killed_report_temp_is_removed_at_the_next_write_of_it(tmp_path):
    """Versions before the ledger left ``.r.pdf.XXXXXXXX.tmp`` (the whole report) when killed."""
    target = tmp_path / "r.pdf"
    left = tmp_path / ".r.pdf.k3j_x9a2.tmp"
    left.write_bytes(b"%PDF- the whole record")
    young = tmp_path / ".r.pdf.abcd1234.tmp"  # an old-version writer that may still run
    young.write_bytes(b"%PDF- being written")
    others = [tmp_path / ".notes.txt.abcd1234.tmp", tmp_path / ".r.pdf.tmp", tmp_path / "r.pdf.tmp"]
    for other in others:
        other.write_bytes(b"someone else's")
    hour_ago = time.time() - 3600
    for old in (left, *others):
        os.utime(old, (hour_ago, hour_ago))
    with output_files.writing_output(target) as temp:
        temp.write_bytes(b"%PDF-new")
    assert target.read_bytes() == b"%PDF-new"
    assert not left.exists() and young.exists() and all(o.exists() for o in others)
