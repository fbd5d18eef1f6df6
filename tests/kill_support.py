"""SIGKILL a child process at seeded random moments *inside* a store write, then check the store.

How a kill is aimed: the child wraps the Store methods under test so that, while one runs,
``sys.setprofile`` counts every Python call/return and C call/return made by code in
``eczema_tracker/store/`` and ``eczema_tracker/core/atomic.py`` (each SQL statement, ``write``,
``fsync``, ``os.replace``... is one such event). The child kills itself with SIGKILL at event
number ``ECZEMA_KILL_AT`` (counted over all wrapped calls). A first run without a kill gives
the number of events of the whole operation; the kill points are then drawn from a seeded
random generator, one in each of ``runs`` equal slices, so they spread over the whole write:
before the file, between the file and its row, after the commit.

For an operation repeated in one child (``analyse-store`` records one analysis per photo),
``ECZEMA_KILL_CALL=k`` and ``ECZEMA_KILL_FRACTION=f`` kill it inside the k-th wrapped call, at
the fraction ``f`` of the events the first call took (no separate counting run); ``f = 0``
kills it on entering the k-th call.

Run a child as ``python -m tests.kill_support OP FOLDER ARGS...`` from the repository root.
"""

from __future__ import annotations

import functools
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eczema_tracker
from eczema_tracker.store import Store, db, files

REPO_ROOT = Path(__file__).resolve().parents[1]
KILL_AT = "ECZEMA_KILL_AT"
KILL_CALL = "ECZEMA_KILL_CALL"
KILL_FRACTION = "ECZEMA_KILL_FRACTION"
_PACKAGE = Path(eczema_tracker.__file__).resolve().parent
_WRITE_CODE = (str(_PACKAGE / "store") + os.sep, str(_PACKAGE / "atomic.py"))


# -- in the child ---------------------------------------------------------------------------------
class _Killer:
    """Counts write-code events inside the wrapped methods; SIGKILLs the process when told."""

    def __init__(self) -> None:
        self.kill_at = int(os.environ.get(KILL_AT, "0")) or None
        self.kill_call = int(os.environ.get(KILL_CALL, "0")) or None
        self.kill_fraction = float(os.environ.get(KILL_FRACTION, "0.5"))
        self.events = 0  # over all wrapped calls
        self.call_events: list[int] = []  # per outermost wrapped call
        self._depth = 0
        self._call_target: int | None = None

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if not frame.f_code.co_filename.startswith(_WRITE_CODE):
            return
        self.events += 1
        self.call_events[-1] += 1
        if self.events == self.kill_at or self.call_events[-1] == self._call_target:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(self, owner: type, name: str) -> None:
        """Count (and maybe die) inside every call of ``owner.name``."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return original(*args, **kwargs)
            self.call_events.append(0)
            if self.kill_call is not None and len(self.call_events) == self.kill_call:
                if self.kill_fraction == 0:  # die on entering that call
                    self._call_target = 1
                else:
                    reference = self.call_events[0] if len(self.call_events) > 1 else None
                    assert reference, "ECZEMA_KILL_CALL needs a first call to measure"
                    self._call_target = max(1, math.ceil(self.kill_fraction * reference))
            self._depth += 1
            sys.setprofile(self._profile)
            try:
                return original(*args, **kwargs)
            finally:
                sys.setprofile(None)
                self._depth -= 1

        setattr(owner, name, counted)

    def report(self) -> None:
        print(f"events {self.events}", flush=True)
        print("calls " + ",".join(map(str, self.call_events)), flush=True)


def _op_prompt(killer: _Killer, folder: str, photo_id: str, mask_png: str) -> None:
    """``eczema-tracker prompts set PHOTO_ID MASK.png``."""
    from eczema_tracker.cli import main

    killer.wrap(Store, "set_prompt_mask")
    assert main(["prompts", "set", "--data-dir", folder, photo_id, mask_png]) == 0


def _op_correct(killer: _Killer, folder: str, analysis_id: str, mask_png: str) -> None:
    """``Store.save_corrected_mask`` as the mask editor calls it."""
    from eczema_tracker.core.imaging import load_mask

    killer.wrap(Store, "save_corrected_mask")
    with Store.open(folder) as store:
        store.save_corrected_mask(int(analysis_id), load_mask(mask_png))


def _op_rate(killer: _Killer, folder: str, photo_id: str, rating: str) -> None:
    """``Store.rate`` as the rating buttons call it."""
    killer.wrap(Store, "rate")
    with Store.open(folder) as store:
        store.rate(int(photo_id), int(rating))


def _op_train(killer: _Killer, folder: str, epochs: str) -> None:
    """Train a personal model (stored, and activated when it beats the majority guess: enough
    ``epochs`` make it), then activate the one active before."""
    from eczema_tracker.app import personal_severity

    killer.wrap(Store, "add_severity_model")
    killer.wrap(Store, "activate_severity_model")
    with Store.open(folder) as store:
        before = store.active_severity_model()
        personal_severity.train_personal_model(
            store, backbone_source="tiny/dino", epochs=int(epochs)
        )
        if before is not None:
            store.activate_severity_model(before.id)


def _op_analyse(killer: _Killer, folder: str, dino: str, seggpt: str, nonce: str) -> None:
    """``eczema-tracker analyse-store --all``; each result gets its own mask (see below)."""
    from eczema_tracker.app import services
    from eczema_tracker.cli import main

    # The tiny random SegGPT finds the same (empty) mask in every photo, so only the first
    # record would write a mask file. A mask of its own per photo and run makes every record
    # write one, as real results do; everything else is the real analysis and recording.
    original = services._analyze

    def distinct_mask(
        pipeline: Any, image: Any, *, exclude_keys: tuple[str, ...], query_features: Any = None
    ) -> Any:
        analysis = original(
            pipeline, image, exclude_keys=exclude_keys, query_features=query_features
        )
        mask = analysis.mask.copy()
        rng = random.Random(f"{nonce}-{exclude_keys}")
        top, left = rng.randrange(mask.shape[0] // 2), rng.randrange(mask.shape[1] // 2)
        mask[top : top + mask.shape[0] // 4, left : left + mask.shape[1] // 4] = True
        analysis.mask, analysis.lesion_area_fraction = mask, float(mask.mean())
        return analysis

    services._analyze = distinct_mask
    killer.wrap(Store, "record_analysis")
    argv = ["analyse-store", "--data-dir", folder, "--all", "--json"]
    main([*argv, "--dino", dino, "--seggpt", seggpt, "--device", "cpu"])


def _op_rescore(killer: _Killer, folder: str) -> None:
    """Re-score every analysis with the active model (the app offers it after training)."""
    from eczema_tracker.app import personal_severity

    killer.wrap(Store, "record_analysis")
    with Store.open(folder) as store:
        active = store.active_severity_model()
        personal_severity.rescore_analyses(store, active.path, active.id)


OPERATIONS: dict[str, Callable[..., None]] = {
    "prompt": _op_prompt,
    "correct": _op_correct,
    "rate": _op_rate,
    "train": _op_train,
    "analyse": _op_analyse,
    "rescore": _op_rescore,
}


def child_main(argv: list[str]) -> None:
    """``OP FOLDER ARGS...``: run one operation with the kill armed; report the event counts."""
    killer = _Killer()
    OPERATIONS[argv[0]](killer, *argv[1:])
    killer.report()
    print("done", flush=True)


# -- in the test ----------------------------------------------------------------------------------
@dataclass
class ChildRun:
    returncode: int
    stdout: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    @property
    def events(self) -> int:
        return int(_field(self.stdout, "events"))

    @property
    def call_events(self) -> list[int]:
        return [int(n) for n in _field(self.stdout, "calls").split(",") if n]


def _field(stdout: str, name: str) -> str:
    for line in stdout.splitlines():
        if line.startswith(name + " "):
            return line[len(name) + 1 :]
    raise AssertionError(f"the child printed no '{name}' line:\n{stdout}")


def run_child(op: str, *args: object, env: dict[str, str] | None = None) -> ChildRun:
    """Run ``OP ARGS`` in a fresh interpreter (env: the test's, plus ``env``)."""
    child_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")])
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.kill_support", op, *map(str, args)],
        cwd=REPO_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"child {op} failed with {done.returncode}:\n{done.stdout}")
    return ChildRun(done.returncode, done.stdout)


def kill_points(total_events: int, runs: int, rng: random.Random) -> list[int]:
    """One seeded random event number in each of ``runs`` equal slices of 1..total_events."""
    width = total_events / runs
    return [min(total_events, 1 + int((i + rng.random()) * width)) for i in range(runs)]


@dataclass
class StoreState:
    """What :func:`check_store` found after a kill."""

    removed_orphans: int  # files of an interrupted write removed on the next open


def check_store(folder: Path) -> StoreState:
    """The store after a crash: database intact, every row's file present and complete, and
    after the next (writer) open no orphan, no unknown file, no temp file left.

    Rows and files are first compared without the Store (before its open-time repair)."""
    conn = sqlite3.connect(folder / db.DB_NAME)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = dict(
            conn.execute(
                "SELECT stored_name, sha256 FROM photo UNION ALL "
                "SELECT stored_name, sha256 FROM mask_file UNION ALL "
                "SELECT stored_name, sha256 FROM severity_model"
            ).fetchall()
        )
    finally:
        conn.close()
    on_disk = set(files.iter_content_files(folder))
    assert set(rows) <= on_disk, f"rows without their file: {set(rows) - on_disk}"
    with Store.open(folder) as store:
        assert store.check.missing_files == ()
        assert store.check.unknown_files == (), "a leftover that no pending write explains"
        removed = len(store.check.removed_orphans)
    assert set(files.iter_content_files(folder)) == set(rows), "orphan files after the open"
    tmp = folder / files.TMP
    assert not tmp.exists() or not any(tmp.iterdir()), "temp files left after the open"
    for name, sha in rows.items():
        assert files.sha256_file(folder / name) == sha, f"{name} is not complete"
    return StoreState(removed)


if __name__ == "__main__":
    child_main(sys.argv[1:])
