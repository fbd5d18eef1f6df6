"""The store check behind ``eczema-tracker check [--repair]`` and the quick check the app shows.

What is checked, read-only (nothing is written unless ``repair=True``):

- the database: SQLite ``integrity_check`` (``quick_check`` in the quick form), foreign keys,
  its schema version, and its tables, indexes and triggers against what the migrations create;
- every row's file (photos, masks, severity models; all content-addressed by SHA-256): that its
  name lies inside the store, that it is there, and that its bytes are right: the full SHA-256
  in the full check, the size (photos), the PNG end chunk (masks) or the safetensors length
  (models) in the quick one;
- files in ``photos/``, ``masks/``, ``models/`` no row refers to (orphans), leftovers of an
  interrupted write, and the thumbnails: a cache, so one not made yet (a fresh restore has
  none: backups hold no thumbnails) is a note, not a problem; a damaged or stray one is.

A store whose creation was cut short (its database empty, or a header without tables) is said to
be new and never set up: healthy, holding no photos; any write sets it up. A restore under way
or cut short is said so (``--repair`` finishes one that was cut short).

``repair=True`` (writer lock held, via ``Store.open``) does only what is safe: it moves orphans and
stale thumbnails to ``orphans/``, removes crash leftovers (as every writer open does), upgrades an
older schema, puts back a missing or damaged file from ``orphans/`` when its SHA-256 matches, and
makes missing or damaged thumbnails again, and finishes a restore that was cut short. It never deletes a row: a row whose file is missing
or damaged is listed in ``missing`` with what the person made that it holds (ratings, painted or
corrected masks), so it can be restored from a backup. A damaged database is never repaired.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from eczema_tracker.core import paths
from eczema_tracker.core.jobs import ProgressCallback
from eczema_tracker.store import db, files
from eczema_tracker.store.backup.recovery import swap_leftovers
from eczema_tracker.store.check.inspection import (
    Findings,
    database_problems,
    inspect_store,
    writer_active,
)
from eczema_tracker.store.check.records import FileHasher, Problem, UnusableFile
from eczema_tracker.store.errors import StoreError

__all__ = ["Problem", "StoreCheckResult", "UnusableFile", "check_store", "quick_check_store"]
_SQLITE_MAGIC = b"SQLite format 3\x00"


class _Common(TypedDict):
    """The fields every :class:`StoreCheckResult` of one check run shares."""

    data_dir: Path
    full: bool
    app_schema_version: int


@dataclass(frozen=True)
class StoreCheckResult:
    """What a check found and, with ``repair``, what it did and what is left."""

    data_dir: Path
    full: bool
    app_schema_version: int
    schema_version: int | None = None
    could_not_run: str | None = None  # one sentence: why nothing was checked (exit code 2)
    problems: tuple[Problem, ...] = ()  # found (before any repair)
    repairs: tuple[str, ...] = ()  # what --repair did, one sentence each
    remaining: tuple[Problem, ...] | None = None  # after the repair; None when none was run
    missing: tuple[UnusableFile, ...] = ()  # rows whose file is missing or damaged (now)
    checked: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: tuple[str, ...] = ()  # worth knowing, not problems (e.g. thumbnails not made yet)
    never_set_up: bool = False  # the database was created but never set up (holds nothing)

    @property
    def outstanding(self) -> tuple[Problem, ...]:
        """The problems the store has now (after the repair, if one ran)."""
        return self.problems if self.remaining is None else self.remaining

    @property
    def healthy(self) -> bool:
        return self.could_not_run is None and not self.outstanding

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 problems (left), 2 the check could not run."""
        return 2 if self.could_not_run else (1 if self.outstanding else 0)

    def lines(self) -> list[str]:
        """The human report: a heading, one line per problem or repair, a verdict."""
        if self.could_not_run:
            return [f"could not check: {self.could_not_run}"]
        counts = self.checked
        how = "full SHA-256 check" if self.full else "quick check: sizes only"
        if self.never_set_up:
            out = [
                f"The photo store at {self.data_dir} is new and was never set up (its creation "
                "was cut short); it holds no photos. Any write (the app, an import, "
                "--repair) sets it up."
            ]
        else:
            out = [
                f"Checked the photo store at {self.data_dir}: {counts.get('photos', 0)} "
                f"photo(s), {counts.get('masks', 0)} mask(s), {counts.get('models', 0)} "
                f"severity model(s), schema {self.schema_version} ({how})."
            ]
        out += [f"{'note':<9} {note}" for note in self.notes]
        if self.remaining is None:
            out += [f"{p.kind:<9} {p.message}" for p in self.problems]
        else:
            out += [f"repaired  {line}" for line in self.repairs]
            out += [f"{'left':<9} {p.message}" for p in self.remaining]
        out.append(self._verdict())
        return out

    def _verdict(self) -> str:
        if self.healthy:
            if self.remaining is not None and self.problems:
                return f"Repaired {len(self.repairs)} thing(s); the store is healthy now."
            return "The store is healthy."
        left = self.outstanding
        fixable = sum(p.repairable for p in left)
        if self.remaining is None:
            hint = f" ({fixable} can be fixed with --repair)" if fixable else ""
            return f"{len(left)} problem(s) found{hint}."
        done = f"Repaired {len(self.repairs)} thing(s)" if self.repairs else "Nothing was repaired"
        return (
            f"{done}; {len(left)} problem(s) are left that "
            "--repair cannot fix (restore the files from a backup, or re-import the photos)."
        )

    def plain_summary(self) -> str:
        """A short paragraph for the app (e.g. after the quick check on open)."""
        if self.could_not_run:
            return f"The photo store could not be checked: {self.could_not_run}"
        if self.healthy:
            return "The photo store is healthy."
        left = self.outstanding
        shown = " ".join(p.message for p in left[:3])
        more = f" ...and {len(left) - 3} more." if len(left) > 3 else ""
        hint = (
            " Run 'eczema-tracker check --repair' (with the app closed) to fix what can be fixed."
            if any(p.repairable for p in left)
            else ""
        )
        return f"The photo store has {len(left)} problem(s). {shown}{more}{hint}"

    def to_json(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "healthy": self.healthy,
            "exit_code": self.exit_code,
            "full": self.full,
            "schema_version": self.schema_version,
            "app_schema_version": self.app_schema_version,
            "could_not_run": self.could_not_run,
            "problems": [p.to_json() for p in self.problems],
            "repairs": list(self.repairs),
            "remaining": None if self.remaining is None else [p.to_json() for p in self.remaining],
            "missing": [m.to_json() for m in self.missing],
            "checked": dict(self.checked),
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
            "never_set_up": self.never_set_up,
        }


class _CouldNotRun(Exception):
    """The check cannot start (no store, garbage database, too new, locked)."""


def quick_check_store(data_dir: str | os.PathLike[str] | None = None) -> StoreCheckResult:
    """The fast, read-only form for when the app opens: sizes instead of SHA-256, ``quick_check``.

    Safe while the app holds the store open (it reads with its own read-only connection);
    show ``result.plain_summary()`` when ``not result.healthy``.
    """
    return check_store(data_dir, full=False)


def check_store(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    full: bool = True,
    repair: bool = False,
    progress: ProgressCallback | None = None,
) -> StoreCheckResult:
    """Check the store (see the module docstring); with ``repair`` fix what is safe to fix."""
    started = time.perf_counter()
    root = paths.data_dir(data_dir)
    latest = db.latest_version()
    base: _Common = {"data_dir": root, "full": full, "app_schema_version": latest}
    hasher = FileHasher()
    try:
        if repair and swap_leftovers(root):
            _open_for_writing(root)  # finishes (or undoes) a restore that was cut short
        if db.never_set_up(root / db.DB_NAME):
            unset = _never_set_up(root, base, started, repair)
            if not repair or unset.problems:
                return unset
            _open_for_writing(root)  # any write sets it up
        if not repair and swap_leftovers(root) and writer_active(root):
            raise _CouldNotRun(
                f"A restore into {root} is under way; check again once it has finished."
            )
        version = _preflight(root, latest)
        if not repair:
            found = inspect_store(root, full=full, hasher=hasher, progress=progress)
            return StoreCheckResult(
                **base,
                schema_version=version,
                problems=found.problems,
                missing=found.missing,
                checked=found.counts,
                seconds=time.perf_counter() - started,
                notes=_notes(found),
            )
        return _check_and_repair(root, version, base, hasher, full, progress, started)
    except _CouldNotRun as exc:
        return StoreCheckResult(
            **base, could_not_run=str(exc), seconds=time.perf_counter() - started
        )
    except sqlite3.Error as exc:  # e.g. the files renamed under it by a restore
        under_way = " (a restore is under way or was cut short)" if swap_leftovers(root) else ""
        return StoreCheckResult(
            **base,
            could_not_run=f"The database in {root} could not be read{under_way}: {exc}.",
            seconds=time.perf_counter() - started,
        )


def _notes(found: Findings) -> tuple[str, ...]:
    unmade = len(found.unmade_thumbnails)
    if not unmade:
        return ()
    return (
        f"{unmade} thumbnail(s) are made again when the photos are shown (a cache, not a "
        "problem; --repair makes them now).",
    )


# ------------------------------------------------------------------------- before anything
def _open_for_writing(root: Path) -> None:
    from eczema_tracker.store.repository import Store

    try:
        Store.open(root).close()
    except StoreError as exc:
        raise _CouldNotRun(str(exc)) from exc


def _never_set_up(root: Path, base: _Common, started: float, repair: bool) -> StoreCheckResult:
    """A store whose creation was cut short: new and healthy, unless files say it held more."""
    stored = sum(1 for _ in files.iter_content_files(root))
    problems: tuple[Problem, ...] = ()
    if stored:
        problems = (
            Problem(
                "database",
                f"The database is empty (never set up), yet {stored} photo, mask or model "
                "file(s) are in the store: its records are lost; restore a backup with "
                "'eczema-tracker restore'.",
            ),
        )
    return StoreCheckResult(
        **base,
        schema_version=0,
        problems=problems,
        remaining=problems if repair else None,
        never_set_up=True,
        seconds=time.perf_counter() - started,
    )


def _preflight(root: Path, latest: int) -> int:
    """Refuse (untouched) a folder that is not a store we may read; return its schema version.

    The file header is read first, without SQLite, so a garbage or too-new database is refused
    before any connection could create a ``-wal``/``-shm`` file beside it.
    """
    db_path = root / db.DB_NAME
    if not db_path.is_file() and swap_leftovers(root):
        raise _CouldNotRun(
            f"A restore into {root} is under way or was cut short; wait for it, or run "
            "'eczema-tracker check --repair' (or open the app) to finish it."
        )
    if not db_path.is_file():
        raise _CouldNotRun(f"There is no photo store at {root} (no {db.DB_NAME}).")
    try:
        with open(db_path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise _CouldNotRun(f"{db_path} cannot be read ({exc.strerror or exc}).") from exc
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise _CouldNotRun(
            f"{db_path} is not an SQLite database (damaged or replaced); restore a backup "
            "with 'eczema-tracker restore'. Nothing was changed."
        )
    if int.from_bytes(header[60:64], "big") > latest:
        raise _CouldNotRun(_too_new(root, int.from_bytes(header[60:64], "big"), latest))
    try:
        conn = db.connect(db_path, readonly=True)
    except StoreError as exc:
        raise _CouldNotRun(str(exc)) from exc
    try:
        version = db.schema_version(conn)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except (StoreError, sqlite3.DatabaseError) as exc:
        raise _CouldNotRun(f"{db_path} cannot be read as a database ({exc}).") from exc
    finally:
        conn.close()
    if version > latest:  # the header was stale: the WAL held a newer page 1
        raise _CouldNotRun(_too_new(root, version, latest))
    if version < 1:
        raise _CouldNotRun(f"{db_path} holds no photo store (schema 0: no tables).")
    return version


def _too_new(root: Path, version: int, latest: int) -> str:
    return (
        f"The photo store at {root} was written by a newer version of Eczema Tracker (schema "
        f"{version}; this version understands up to {latest}); update Eczema Tracker to check "
        "it. Nothing was changed."
    )


# ------------------------------------------------------------------------- repair
def _check_and_repair(
    root: Path,
    version: int,
    base: _Common,
    hasher: FileHasher,
    full: bool,
    progress: ProgressCallback | None,
    started: float,
) -> StoreCheckResult:
    """Open the store for writing (its own crash clean-up runs), look, repair, look again."""
    from eczema_tracker.store.check.repair import opened_store_repairs, repair_findings
    from eczema_tracker.store.repository import Store

    conn = db.connect(root / db.DB_NAME, readonly=True)
    try:
        broken = [p for p in database_problems(conn, full) if not p.repairable]
    finally:
        conn.close()
    if broken:  # never write into a damaged database: the repair could spread the damage
        found = inspect_store(root, full=full, hasher=hasher, progress=progress)
        refusal = Problem(
            "database",
            "Nothing was repaired because the database itself is damaged; restore a backup "
            "with 'eczema-tracker restore'.",
        )
        return StoreCheckResult(
            **base,
            schema_version=version,
            problems=found.problems,
            remaining=(*found.problems, refusal),
            missing=found.missing,
            checked=found.counts,
            seconds=time.perf_counter() - started,
        )
    try:
        store = Store.open(root)
    except StoreError as exc:
        raise _CouldNotRun(str(exc)) from exc
    with store:
        problems, repairs = opened_store_repairs(store.check)
        now = _schema_version(root)
        if now > version:
            problems.insert(0, Problem("schema", f"The database had schema {version}.", True))
            repairs.insert(0, f"Upgraded the database from schema {version} to {now}.")
        found = inspect_store(root, full=full, hasher=hasher, progress=progress, writer_is_us=True)
        repairs += repair_findings(root, found)
        after = inspect_store(root, full=full, hasher=hasher, writer_is_us=True)
        if after.unmade_thumbnails or any(p.repairable for p in after.problems):
            repairs += repair_findings(root, after)
            after = inspect_store(root, full=full, hasher=hasher, writer_is_us=True)
    return StoreCheckResult(
        **base,
        schema_version=now,
        problems=(*problems, *found.problems),
        repairs=tuple(repairs),
        remaining=after.problems,
        missing=after.missing,
        checked=after.counts,
        seconds=time.perf_counter() - started,
        notes=_notes(after),
    )


def _schema_version(root: Path) -> int:
    conn = db.connect(root / db.DB_NAME, readonly=True)
    try:
        return db.schema_version(conn)
    finally:
        conn.close()
