"""``export_csv(store, folder)``: the whole record as plain CSV files a spreadsheet opens.

One CSV per kind of record (photos, analyses, ratings, check-ins, daily numbers, treatments,
courses, day marks), each with a header row, UTF-8, ISO dates and times, and a README.txt
saying what every column means. Photos in the bin are included (column ``deleted_at``); no
image or mask file is copied (see the backup zip).

Nothing of the person's is overwritten, and a set is whole or absent: the files go
into a new folder ``DIR/eczema-record-YYYY-MM-DD`` (``-2``, ``-3``... when that name is taken;
never merged into an existing folder), built under a hidden temporary name in DIR and renamed
only once every file is written and flushed. An export killed half way leaves only that
temporary folder, which the next export into DIR removes (only folders of this module's naming
whose writer is gone: each holds a lock while it is written). A DIR inside the photo store is
refused.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return, after any leading spaces or line breaks) get a leading ``'`` (the
OWASP advice against CSV injection); README.txt says so.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eczema_tracker.core import output_files
from eczema_tracker.core.atomic import fsync_dir, fsync_file
from eczema_tracker.core.poem import POEM_ITEMS
from eczema_tracker.store.errors import BackupError, StoreLockedError
from eczema_tracker.store.lock import LOCK_NAME, WriterLock

if TYPE_CHECKING:
    from eczema_tracker.store.repository import Store

#: (file name, [(column, meaning)]) for every CSV, in the order written (and in the README).
CSV_FILES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "photos.csv",
        (
            ("photo_id", "the photo's number in the store"),
            ("taken_at", "when it was taken (ISO-8601 local time, with offset when known)"),
            ("taken_at_source", "where taken_at came from: exif, file (modification time), user"),
            ("site", "body site"),
            ("note", "the photo's note"),
            ("original_name", "the file name it was imported from"),
            ("format", "image format (JPEG, HEIF, PNG, ...)"),
            ("width", "width in pixels, upright"),
            ("height", "height in pixels, upright"),
            ("byte_size", "size of the original file in bytes"),
            ("sha256", "SHA-256 of the original file's bytes"),
            ("imported_at", "when it was imported (ISO-8601)"),
            ("is_prompt", "1 if the photo is a prompt (its mask guides its site's analyses)"),
            ("deleted_at", "when it was moved to the bin (ISO-8601); empty: in the library"),
        ),
    ),
    (
        "analyses.csv",
        (
            ("analysis_id", "the analysis' number"),
            ("photo_id", "the photo analysed (photos.csv)"),
            ("created_at", "when the analysis was made (ISO-8601)"),
            ("site", "the photo's body site when analysed"),
            ("current", "1 for the photo's newest analysis (the one shown)"),
            ("stale", "1 if a prompt of the site changed since (the result may be out of date)"),
            ("lesion_area_fraction", "lesion area found, as a fraction 0-1 of the photo"),
            (
                "lesion_share_of_skin",
                "lesion area as a fraction 0-1 of the skin shown (lesion + healthy skin); "
                "empty: the site's prompts mark no skin",
            ),
            ("corrected_area_fraction", "area of the person's corrected mask (empty: none)"),
            ("severity_class", "predicted severity 0 clear, 1 mild, 2 moderate, 3 severe"),
            ("score", "predicted severity on a continuous 0-3 scale"),
            ("probabilities", "predicted probability of each severity class (JSON list)"),
            ("severity_model_id", "the severity model used (empty: none)"),
            ("k", "how many prompts were used"),
            ("prompt_photo_ids", "the prompt photos used (JSON list of photo ids)"),
            ("model_sources", "the models used (JSON object)"),
            (
                "nearest_prompt_distance",
                "how far the photo was from its nearest example photo (empty: not measured)",
            ),
            (
                "prompt_distance_scale",
                "the example photos' own spread it was compared with (empty: one example)",
            ),
            (
                "familiar",
                "1 like the example photos, 0 unlike them (check the mask), empty: undecided",
            ),
        ),
    ),
    (
        "ratings.csv",
        (
            ("photo_id", "the photo rated (photos.csv)"),
            (
                "rating",
                "the person's own rating 0 clear, 1 mild, 2 moderate, 3 severe; empty: cleared",
            ),
            ("rated_at", "when (ISO-8601); every rating ever given is listed, newest last"),
        ),
    ),
    (
        "checkins.csv",
        (
            ("checkin_id", "the check-in's number"),
            ("date", "the day of the check-in (YYYY-MM-DD)"),
            *(
                (
                    item,
                    f"POEM question {n} ({item.replace('_', ' ')}): 0 no days ... 4 every day; "
                    "empty: unanswered",
                )
                for n, item in enumerate(POEM_ITEMS, start=1)
            ),
            ("poem_total", "POEM total 0-28 (one unanswered question counts 0); empty: not scored"),
            ("poem_band", "clear or almost clear, mild, moderate, severe, very severe"),
            ("unanswered", "how many questions were left unanswered"),
            ("created_at", "when the check-in was entered (ISO-8601)"),
        ),
    ),  # fmt: skip
    (
        "daily_numbers.csv",
        (
            ("date", "the day (YYYY-MM-DD)"),
            (
                "itch",
                "peak itch over the last 24 hours, 0 none to 10 worst imaginable; empty: not given",
            ),
            ("sleep_loss", "sleep loss, 0 none to 10 no sleep at all; empty: not given"),
        ),
    ),  # fmt: skip
    (
        "treatments.csv",
        (
            ("treatment_id", "the treatment's number"),
            ("name", "its name"),
            (
                "kind",
                "emollient, topical_corticosteroid, topical_calcineurin_inhibitor, "
                "systemic_biologic, antihistamine or other",
            ),
            ("potency", "a topical corticosteroid's potency: mild, moderate, potent, very_potent"),
            ("created_at", "when it was added (ISO-8601)"),
        ),
    ),
    (
        "courses.csv",
        (
            ("course_id", "the course's number"),
            ("treatment_id", "the treatment (treatments.csv)"),
            ("treatment", "the treatment's name"),
            ("start", "first day (YYYY-MM-DD)"),
            ("end", "last day (YYYY-MM-DD); empty: still going"),
            ("times_a_day", "applications a day; empty: not given"),
        ),
    ),
    (
        "day_marks.csv",
        (
            ("date", "the day (YYYY-MM-DD)"),
            ("flare", "1 if the day was marked as a flare"),
            ("note", "the day's note"),
        ),
    ),
)
README_NAME = "README.txt"
#: The exported folder's name: this prefix, the day (YYYY-MM-DD), then ``-2``, ``-3``... if taken.
FOLDER_PREFIX = "eczema-record-"
#: A folder being written: ``.eczema-record-<random>.partial`` (hidden; see the module doc).
PARTIAL_PREFIX = ".eczema-record-"
PARTIAL_SUFFIX = ".partial"
#: A temporary folder without its lock file is left alone this long (its writer may be
#: between creating it and locking it).
UNLOCKED_GRACE_SECONDS = 60.0
#: First characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LEADING_BLANKS = re.compile(r"[ \n\r\t]*")


@dataclass(frozen=True)
class CsvExportSummary:
    """What :func:`export_csv` wrote: the folder and the rows in each file (by file name)."""

    folder: Path
    rows: dict[str, int]


def neutralise_formula(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula.

    A cell is a formula risk when it starts with one of :data:`FORMULA_STARTS`, also after
    leading spaces or line breaks (some spreadsheets trim those); ``'=1+2`` shows as the text
    ``=1+2`` in Excel and LibreOffice. Nothing else changes.
    """
    rest = text[_LEADING_BLANKS.match(text).end() :]  # type: ignore[union-attr]
    if text.startswith(FORMULA_STARTS) or rest.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple | dict):
        return json.dumps(list(value) if isinstance(value, tuple) else value, sort_keys=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_formula(value)
    return value


def _photo_rows(store: Store) -> Iterable[Sequence[Any]]:
    photos = sorted(store.photos() + store.binned_photos(), key=lambda p: p.id)
    for p in photos:
        yield (
            p.id, p.taken_at, p.taken_at_source, p.site, p.note, p.original_name, p.format,
            p.width, p.height, p.byte_size, p.sha256, p.imported_at, p.is_prompt, p.deleted_at,
        )  # fmt: skip


def _analysis_rows(store: Store) -> Iterable[Sequence[Any]]:
    photos = sorted(store.photos() + store.binned_photos(), key=lambda p: p.id)
    current_ids: dict[int, int | None] = {
        pid: a.id for pid, a in store.current_analyses().items()
    }  # one query
    for photo in photos:
        if photo.in_bin:  # current_analyses() lists the library only
            current = store.current_analysis(photo.id)
            current_ids[photo.id] = None if current is None else current.id
        for a in store.analyses(photo.id):
            yield (
                a.id, a.photo_id, a.created_at, a.site, a.id == current_ids.get(photo.id),
                a.stale, a.lesion_area_fraction, a.lesion_share_of_skin,
                None if a.corrected_mask is None else a.corrected_mask.area_fraction,
                a.severity_class, a.score, a.probabilities, a.severity_model_id, a.k,
                a.prompt_photo_ids, a.model_sources, a.nearest_prompt_distance,
                a.prompt_distance_scale, a.familiar,
            )  # fmt: skip


def _rating_rows(store: Store) -> Iterable[Sequence[Any]]:
    photos = sorted(store.photos() + store.binned_photos(), key=lambda p: p.id)
    for photo in photos:
        for r in store.rating_history(photo.id):
            yield (r.photo_id, r.rating, r.rated_at)


def _checkin_rows(store: Store) -> Iterable[Sequence[Any]]:
    for c in store.checkins(every_row=True):  # all, also a date's older ones: nothing lost
        score = c.score
        yield (c.id, c.day, *c.answers, score.total, score.band, score.unanswered, c.created_at)


def _daily_rows(store: Store) -> Iterable[Sequence[Any]]:
    for d in store.daily():
        yield (d.day, d.itch, d.sleep_loss)


def _treatment_rows(store: Store) -> Iterable[Sequence[Any]]:
    for t in store.treatments():
        yield (t.id, t.name, t.kind, t.potency, t.created_at)


def _course_rows(store: Store) -> Iterable[Sequence[Any]]:
    for c in store.courses():
        yield (c.id, c.treatment_id, c.treatment_name, c.start, c.end, c.times_a_day)


def _mark_rows(store: Store) -> Iterable[Sequence[Any]]:
    for m in store.day_marks():
        yield (m.day, m.flare, m.note)


_ROWS: dict[str, Callable[[Store], Iterable[Sequence[Any]]]] = {
    "photos.csv": _photo_rows,
    "analyses.csv": _analysis_rows,
    "ratings.csv": _rating_rows,
    "checkins.csv": _checkin_rows,
    "daily_numbers.csv": _daily_rows,
    "treatments.csv": _treatment_rows,
    "courses.csv": _course_rows,
    "day_marks.csv": _mark_rows,
}


def readme_text() -> str:
    """README.txt: what the files are and what each column means."""
    lines = [
        "Eczema Tracker: the record exported as CSV (UTF-8, comma-separated, one header row).",
        "Dates are YYYY-MM-DD; times are ISO-8601. An empty cell means no value.",
        "Photos in the bin are included (photos.csv, column deleted_at).",
        "Text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a",
        "carriage return, also after leading spaces) starts with an added ' so that it is shown",
        "as text: remove that first ' to get the text as it was entered.",
        "POEM: Patient-Oriented Eczema Measure, (c) The University of Nottingham.",
        "",
    ]
    for name, columns in CSV_FILES:
        lines.append(name)
        width = max(len(column) for column, _ in columns)
        lines.extend(f"  {column:<{width}}  {meaning}" for column, meaning in columns)
        lines.append("")
    return "\n".join(lines)


def export_csv(store: Store, folder: Path | str, *, day: date | None = None) -> CsvExportSummary:
    """Write the store's records as CSV files and a README.txt into a new folder in ``folder``.

    The new folder is ``folder/eczema-record-<day>`` (``day``: today), or that name with
    ``-2``, ``-3``... when taken; it appears whole, by one rename, once everything is written
    (see the module docstring). ``folder`` is created if needed. ``store`` is a Store with the
    record methods.

    Raises :class:`~eczema_tracker.store.errors.BackupError` (one sentence) when ``folder`` is
    a file or inside the photo store, or cannot be written; then no new folder is left behind.
    """
    parent = Path(folder)
    if parent.exists() and not parent.is_dir():
        raise BackupError(f"{parent} is a file, not a folder; nothing was written.")
    _refuse_inside_store(parent, Path(store.data_dir))
    rows: dict[str, int] = {}
    try:
        parent.mkdir(parents=True, exist_ok=True)
        sweep_partial_exports(parent)
        work = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, suffix=PARTIAL_SUFFIX, dir=parent))
    except OSError as exc:
        raise BackupError(f"Could not write the CSV files into {parent} ({_reason(exc)}).") from exc
    lock = WriterLock(work)
    # In the outputs' ledger too: a killed export is removed by the next output written anywhere
    # (a USB stick may never see another CSV export), not only by the next one into ``parent``.
    with output_files.tracked_temp(work):
        try:
            lock.acquire()
            for name, columns in CSV_FILES:
                rows[name] = _write_csv(work / name, columns, _ROWS[name](store))
            (work / README_NAME).write_text(readme_text(), encoding="utf-8")
            fsync_file(work / README_NAME)
            lock.release()
            (work / LOCK_NAME).unlink()
            fsync_dir(work)
            target = _rename_into_place(work, parent, day or date.today())
        except BaseException as exc:
            lock.release()
            shutil.rmtree(work, ignore_errors=True)
            if isinstance(exc, OSError):
                raise BackupError(
                    f"Could not write the CSV files into {parent} ({_reason(exc)}); nothing was "
                    "kept."
                ) from exc
            raise
    return CsvExportSummary(target, rows)


def sweep_partial_exports(parent: Path) -> list[Path]:
    """Remove the temporary folders that killed exports left in ``parent``; returns them.

    Only folders named ``.eczema-record-*.partial`` (never a link) whose lock no live export
    holds; one with no lock file at all only after :data:`UNLOCKED_GRACE_SECONDS`.
    """
    removed = []
    for entry in parent.iterdir():
        if not (entry.name.startswith(PARTIAL_PREFIX) and entry.name.endswith(PARTIAL_SUFFIX)):
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        if not (entry / LOCK_NAME).exists():
            try:
                if time.time() - entry.stat().st_mtime < UNLOCKED_GRACE_SECONDS:
                    continue
            except OSError:
                continue
        lock = WriterLock(entry)
        try:
            lock.acquire()
        except StoreLockedError:
            continue  # another export is writing it
        except OSError:
            continue
        lock.release()
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _write_csv(
    file: Path, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
) -> int:
    count = 0
    with open(file, "x", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([column for column, _ in columns])
        for row in rows:
            assert len(row) == len(columns), file.name  # the table above is the schema
            writer.writerow([_cell(value) for value in row])
            count += 1
        fh.flush()
        os.fsync(fh.fileno())
    return count


def _rename_into_place(work: Path, parent: Path, day: date) -> Path:
    """Rename ``work`` to the first free ``eczema-record-<day>[-N]`` in ``parent``."""
    base = f"{FOLDER_PREFIX}{day.isoformat()}"
    for number in range(1, 10_000):
        target = parent / (base if number == 1 else f"{base}-{number}")
        if os.path.lexists(target):
            continue
        try:
            # POSIX rename replaces an empty folder made since the check (nothing is lost);
            # a folder with anything in it is never merged into (ENOTEMPTY/EEXIST).
            os.rename(work, target)
        except (FileExistsError, IsADirectoryError):
            continue
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                continue
            raise
        fsync_dir(parent)
        return target
    raise BackupError(f"{parent} holds too many exports named {base}; nothing was kept.")


def _refuse_inside_store(parent: Path, data_dir: Path) -> None:
    """BackupError when ``parent`` is the photo store's folder or inside it (the rule every
    output follows: :func:`~eczema_tracker.core.output_files.refuse_inside_store`)."""
    try:
        output_files.refuse_inside_store(Path(os.path.abspath(parent)), data_dir)
    except output_files.OutputFileError as exc:
        raise BackupError(f"{exc.message} Nothing was written.") from exc


def _reason(exc: OSError) -> str:
    return str(exc.strerror or exc)
