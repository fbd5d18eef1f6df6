"""The store edits a person makes from the GUI, each reporting what it changed.

Every function here takes the open :class:`~eczema_tracker.store.Store` first, does one edit
(in the store's own transactions) and returns an :class:`~eczema_tracker.app.changes.OpResult`:
the value its caller needs (often what undoing it needs: the ratings or sites before) and the
:class:`~eczema_tracker.app.changes.StoreChanges` it made. The GUI runs them through its store
session, which tells the views what the edit reported (Anki's ``OpChanges``). The undo of an
edit is an edit too (``put_*_back``). Qt-free; they run on a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eczema_tracker.app import personal_severity
from eczema_tracker.app.changes import OpResult, StoreChanges, reporting_when_cancelled
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.store import Store
from eczema_tracker.store.record.values import (
    UNCHANGED,
    CourseRecord,
    DayEntry,
    RecordedDay,
    TreatmentRecord,
    Unchanged,
)
from eczema_tracker.store.records import ImportResult, PhotoRecord, PromptRecord

if TYPE_CHECKING:  # torch is loaded only when a model is
    from eczema_tracker.ml.dino import DinoEncoder

#: What any edit of the patient's record changes (check-ins, numbers, treatments, flares, notes).
RECORD_CHANGED = StoreChanges(record=True)
#: What a change of the severity models (or of which one is used) changes.
SEVERITY_MODELS_CHANGED = StoreChanges(severity_models=True)


def _photos_changed(ids: Sequence[int] | frozenset[int], *, prompts: bool) -> StoreChanges:
    return StoreChanges(photos=True, prompts=prompts, photo_ids=frozenset(ids))


# -- ratings ------------------------------------------------------------------------------------
def rate_photos(
    store: Store, ids: Sequence[int], level: int | None
) -> OpResult[tuple[dict[int, int | None], PhotoRecord]]:
    """Rate the photos ``ids`` ``level`` 0-3 (None clears); the value is the ratings before and
    the first photo (to name it)."""
    before = {pid: store.rating(pid) for pid in ids}
    for pid in ids:
        store.rate(pid, level)
    return OpResult((before, store.photo(ids[0])), _ratings_changed(ids))


def put_ratings_back(store: Store, before: Mapping[int, int | None]) -> OpResult[None]:
    """Give each photo the rating it had in ``before`` (undo of :func:`rate_photos`)."""
    for pid, rating in before.items():
        if store.rating(pid) != rating:
            store.rate(pid, rating)
    return OpResult(None, _ratings_changed(list(before)))


def _ratings_changed(ids: Sequence[int]) -> StoreChanges:
    return StoreChanges(ratings=True, photo_ids=frozenset(ids))


# -- the bin ------------------------------------------------------------------------------------
def move_to_bin(store: Store, ids: Sequence[int]) -> OpResult[list[int]]:
    """Move the photos ``ids`` to the bin; the value is those moved."""
    prompts = any(store.photo(pid).is_prompt for pid in ids)
    moved = store.move_to_bin(ids)
    return OpResult(moved, _photos_changed(ids, prompts=prompts))


def restore_from_bin(store: Store, ids: Sequence[int]) -> OpResult[list[int]]:
    """Bring the photos ``ids`` back from the bin (with their prompt masks); the value is
    those restored."""
    restored = store.restore_from_bin(ids)
    return OpResult(restored, _photos_changed(ids, prompts=True))


def empty_bin(store: Store) -> OpResult[int]:
    """Delete every photo in the bin for good; the value is how many."""
    return OpResult(store.empty_bin(), StoreChanges(photos=True))


def import_photos(
    store: Store,
    paths: Sequence[str | Path],
    site: str,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> OpResult[tuple[list[ImportResult], list[int]]]:
    """Import files and folders as photos of ``site``; a photo found in the bin comes back
    (importing it again means the person wants it). The value is the import's results and the
    photos brought back from the bin. Cancelled, what was imported before stays (and is
    reported)."""
    changes = StoreChanges(photos=True, prompts=True)
    with reporting_when_cancelled(changes):
        results = store.import_paths(paths, site, progress=progress, cancel=cancel)
    binned = {p.id for p in store.binned_photos()}
    back = store.restore_from_bin(
        {r.photo_id for r in results if r.status == "duplicate" and r.photo_id in binned}
    )
    return OpResult((results, back), changes)


# -- sites, dates, notes ------------------------------------------------------------------------
def move_photos(
    store: Store, ids: Sequence[int], site: str
) -> OpResult[tuple[dict[int, str], str]]:
    """Move the photos ``ids`` to body site ``site``; the value is their sites before and the
    site they are in now (as the store spells it)."""
    before = {pid: store.photo(pid).site for pid in ids}
    for pid in ids:
        store.update_photo(pid, site=site)
    return OpResult((before, store.photo(ids[0]).site), _photos_changed(ids, prompts=True))


def put_sites_back(store: Store, before: Mapping[int, str]) -> OpResult[None]:
    """Give each photo the body site it had in ``before`` (undo of a move or a renaming)."""
    for pid, site in before.items():
        store.update_photo(pid, site=site)
    return OpResult(None, _photos_changed(list(before), prompts=True))


def rename_site(store: Store, old: str, new: str) -> OpResult[tuple[list[int], int, str]]:
    """Rename body site ``old`` to ``new`` for every photo of it (the bin's too); the value is
    the photos of ``old``, how many moved and the new name as stored."""
    ids = [p.id for p in store.photos(old)]
    ids += [p.id for p in store.binned_photos() if p.site == old]
    moved = store.rename_site(old, new)
    renamed = store.photo(ids[0]).site if ids else new
    return OpResult((ids, moved, renamed), StoreChanges(photos=True, prompts=True))


def edit_photo(
    store: Store,
    photo_id: int,
    *,
    taken_at: datetime | str | None = None,
    site: str | None = None,
    note: str | None = None,
) -> OpResult[PhotoRecord]:
    """Change a photo's date taken, body site and/or note (None: kept); the value is the
    photo as it was."""
    old = store.photo(photo_id)
    store.update_photo(photo_id, taken_at=taken_at, site=site, note=note)
    return OpResult(old, _photos_changed([photo_id], prompts=site is not None))


def put_photo_back(
    store: Store, old: PhotoRecord, *, taken_at: bool, site: bool, note: bool
) -> OpResult[None]:
    """Give the photo ``old`` back the details named (undo of :func:`edit_photo`)."""
    store.update_photo(
        old.id,
        taken_at=old.taken_at if taken_at else None,
        taken_at_source=old.taken_at_source,
        site=old.site if site else None,
        note=old.note if note else None,
    )
    return OpResult(None, _photos_changed([old.id], prompts=site))


def set_one_date(store: Store, ids: Sequence[int], day: date) -> OpResult[list[PhotoRecord]]:
    """Give the photos ``ids`` the date ``day``, each keeping its time of day; the dates are
    then the person's. The value is the photos as they were."""
    before = [store.photo(pid) for pid in ids]
    for old in before:
        when = old.taken_datetime.replace(year=day.year, month=day.month, day=day.day)
        store.update_photo(old.id, taken_at=when)
    return OpResult(before, _photos_changed(ids, prompts=False))


def put_dates_back(store: Store, before: Sequence[PhotoRecord]) -> OpResult[None]:
    """Give each photo of ``before`` its date (and where the date came from) back."""
    for old in before:
        store.update_photo(old.id, taken_at=old.taken_at, taken_at_source=old.taken_at_source)
    return OpResult(None, _photos_changed([p.id for p in before], prompts=False))


# -- masks --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MaskSaved:
    """What a mask save wrote, and what undoing it needs."""

    photo_id: int
    site: str
    prompt_changed: bool  # the photo's prompt mask changed (a prompt save, or a promotion)
    prompt_before: PromptRecord | None  # its prompt before (None: it was no prompt)
    analysis_id: int | None = None  # the corrected analysis (a correction)
    correction_before: int | None = None  # that analysis' corrected mask id before
    mask_id: int | None = None  # the mask saved (None: a prompt stopped, nothing saved)

    def changes(self) -> StoreChanges:
        """What this save (or its undo) changed."""
        return StoreChanges(
            prompts=self.prompt_changed,
            photos=self.prompt_changed,  # the photo's prompt badge
            corrections=self.analysis_id is not None,
            photo_ids=frozenset({self.photo_id}),
            sites=frozenset({self.site}),
        )


def save_mask(
    store: Store, photo_id: int, mask: np.ndarray, *, correcting: bool, promote: bool
) -> OpResult[MaskSaved]:
    """Store a painted mask: the photo's prompt mask, or a correction of its current analysis
    (promoted to a prompt with ``promote``)."""
    analysis = store.current_analysis(photo_id) if correcting else None
    site = store.photo(photo_id).site
    before = store.prompt(photo_id)
    if analysis is None:  # a prompt mask (or a correction of nothing: the same)
        stored = store.set_prompt_mask(photo_id, mask)
        saved = MaskSaved(photo_id, site, True, before, mask_id=stored.id)
    else:
        previous = analysis.corrected_mask.id if analysis.corrected_mask is not None else None
        stored = store.save_corrected_mask(analysis.id, mask)
        if promote:
            store.promote_to_prompt(photo_id, analysis.id)
        saved = MaskSaved(photo_id, site, promote, before, analysis.id, previous, stored.id)
    return OpResult(saved, saved.changes())


def save_mask_again(store: Store, saved: MaskSaved) -> OpResult[MaskSaved]:
    """Make the save ``saved`` again after its undo (redo), with the mask it stored (no new
    encoding, and nothing held in memory meanwhile)."""
    if saved.mask_id is None:
        raise ValueError("This save kept no mask to put back.")
    if saved.analysis_id is not None:
        store.set_corrected_mask(saved.analysis_id, saved.mask_id)
        if saved.prompt_changed:
            store.promote_to_prompt(saved.photo_id, saved.analysis_id)
    else:
        store.set_prompt_mask_id(saved.photo_id, saved.mask_id)
    return OpResult(saved, saved.changes())


def stop_using_as_prompt(store: Store, photo_id: int) -> OpResult[MaskSaved]:
    """The photo is no longer a prompt of its site (its mask is kept for an undo)."""
    before = store.prompt(photo_id)
    store.unset_prompt(photo_id)
    saved = MaskSaved(photo_id, store.photo(photo_id).site, True, before)
    return OpResult(saved, saved.changes())


def put_mask_back(store: Store, saved: MaskSaved) -> OpResult[MaskSaved]:
    """Put back what the save ``saved`` replaced (undo of :func:`save_mask` and
    :func:`stop_using_as_prompt`)."""
    if saved.analysis_id is not None:
        store.set_corrected_mask(saved.analysis_id, saved.correction_before)
    if saved.prompt_changed:
        if saved.prompt_before is None:
            store.unset_prompt(saved.photo_id)
        else:
            store.set_prompt_mask_id(saved.photo_id, saved.prompt_before.mask.id)
    return OpResult(saved, saved.changes())


# -- the patient's record -----------------------------------------------------------------------
def record_day(
    store: Store,
    day: date,
    *,
    answers: list[int | None] | tuple[int | None, ...] | None = None,
    replace_checkin: bool = False,
    remove_checkin: bool = False,
    itch: int | None | Unchanged = UNCHANGED,
    sleep_loss: int | None | Unchanged = UNCHANGED,
    flare: bool | Unchanged = UNCHANGED,
    note: str | Unchanged = UNCHANGED,
) -> OpResult[tuple[RecordedDay, DayEntry]]:
    """Store a day's check-in, numbers, flare mark and note, all or nothing (see
    ``Store.record_day``); the value is the day as it was and as it is now."""
    before = store.recorded_day(day)
    entry = store.record_day(
        day,
        answers=answers,
        replace_checkin=replace_checkin,
        remove_checkin=remove_checkin,
        itch=itch,
        sleep_loss=sleep_loss,
        flare=flare,
        note=note,
    )
    return OpResult((before, entry), RECORD_CHANGED)


def put_day_back(store: Store, before: RecordedDay) -> OpResult[None]:
    """Put ``before.day`` back as ``before`` (undo of a check-in saved or a day deleted)."""
    store.put_back_day(before)
    return OpResult(None, RECORD_CHANGED)


def delete_recorded(
    store: Store, day: date, older_checkin_id: int | None = None
) -> OpResult[RecordedDay]:
    """Delete everything recorded on ``day`` (or, given ``older_checkin_id``, that one older
    check-in of it); the value is the day as it was."""
    if older_checkin_id is None:
        before = store.remove_from_day(day, poem=True, numbers=True, flare=True, note=True)
    else:
        before = store.recorded_day(day)
        store.delete_checkin(older_checkin_id)
    return OpResult(before, RECORD_CHANGED)


def daily_numbers(store: Store, day: date) -> tuple[int | None, int | None]:
    """The itch and sleep-loss numbers of ``day`` (None: not recorded)."""
    daily = store.day_entry(day).daily
    return (None, None) if daily is None else (daily.itch, daily.sleep_loss)


def set_daily_numbers(
    store: Store, day: date, itch: int | None, sleep_loss: int | None
) -> OpResult[tuple[int | None, int | None]]:
    """Store the itch and sleep-loss numbers of ``day`` (None: clear); the value is the
    numbers before (read in the write: right after the writes queued before it)."""
    before = daily_numbers(store, day)
    if before != (itch, sleep_loss):
        store.set_daily(day, itch=itch, sleep_loss=sleep_loss)
    return OpResult(before, RECORD_CHANGED)


def mark_day(store: Store, day: date, *, flare: bool) -> OpResult[None]:
    """Mark ``day`` as a flare (or not)."""
    store.set_day_mark(day, flare=flare)
    return OpResult(None, RECORD_CHANGED)


def add_treatment(
    store: Store, name: str, kind: str, potency: str | None
) -> OpResult[TreatmentRecord]:
    """Add a treatment to the person's list."""
    return OpResult(store.add_treatment(name, kind, potency), RECORD_CHANGED)


def update_treatment(
    store: Store, treatment_id: int, *, name: str, kind: str, potency: str | None
) -> OpResult[TreatmentRecord]:
    """Give a treatment a new name, kind and potency (its courses stay with it)."""
    changed = store.update_treatment(treatment_id, name=name, kind=kind, potency=potency)
    return OpResult(changed, RECORD_CHANGED)


def delete_treatment(store: Store, treatment_id: int) -> OpResult[int]:
    """Delete a treatment with its courses; the value is how many courses went with it."""
    return OpResult(store.delete_treatment(treatment_id, with_courses=True), RECORD_CHANGED)


def add_course(
    store: Store, treatment_id: int, start: date, end: date | None, times_a_day: int | None
) -> OpResult[CourseRecord]:
    """Record a course of a treatment from ``start`` to ``end`` (None: still going)."""
    return OpResult(store.add_course(treatment_id, start, end, times_a_day), RECORD_CHANGED)


def end_course(store: Store, course_id: int, end: date | None) -> OpResult[CourseRecord]:
    """End a course on ``end`` (None: it goes on)."""
    return OpResult(store.end_course(course_id, end), RECORD_CHANGED)


def delete_course(store: Store, course_id: int) -> OpResult[None]:
    """Delete a course from the record."""
    store.delete_course(course_id)
    return OpResult(None, RECORD_CHANGED)


# -- severity models ----------------------------------------------------------------------------
def use_severity_model(store: Store, model_id: int) -> OpResult[None]:
    """Use the personal severity model ``model_id`` (the person's decision, kept with it)."""
    personal_severity.use_personal_model(store, model_id)
    return OpResult(None, SEVERITY_MODELS_CHANGED)


def stop_using_severity_model(store: Store) -> OpResult[None]:
    """No severity model grades new photos (the stored models are kept)."""
    personal_severity.stop_using_severity_model(store)
    return OpResult(None, SEVERITY_MODELS_CHANGED)


def import_severity_model(
    store: Store, path: str | Path, *, encoder_backbone: str, encoder: DinoEncoder | None
) -> OpResult[int]:
    """Store a severity model file and use it; the value is its id (see
    :func:`~eczema_tracker.app.personal_severity.import_severity_model`)."""
    model_id = personal_severity.import_severity_model(
        store, path, encoder_backbone=encoder_backbone, encoder=encoder
    )
    return OpResult(model_id, SEVERITY_MODELS_CHANGED)


def rescore_analyses(
    store: Store,
    model_path: str | Path,
    model_id: int | None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> OpResult[int]:
    """Score every current analysis with the severity model ``model_id`` (masks kept); the
    value is how many. Cancelled, the analyses scored before stay scored (and are reported)."""
    changes = StoreChanges(analyses=True)
    with reporting_when_cancelled(changes):
        count = personal_severity.rescore_analyses(
            store, model_path, model_id, progress=progress, cancel=cancel
        )
    return OpResult(count, changes)
