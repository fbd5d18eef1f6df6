"""The record in the store: check-ins, daily numbers, treatments, courses, day marks.

Every refusal is checked to raise RecordInputError (a StoreError) and to store nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest

from eczema_tracker.store import Store, StoreError, StoreReadOnlyError
from eczema_tracker.store.errors import RecordInputError
from eczema_tracker.store.record.values import CheckinExistsError

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "store") as s:
        yield s


def _row_counts(store) -> dict[str, int]:
    tables = ("checkin", "daily_numbers", "treatment", "course", "day_mark")
    return {t: store._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_checkins_are_scored_on_read_and_filtered_by_range(store):
    first = store.add_checkin("2026-01-05", [4, 3, 1, 0, 2, 3, 3])
    second = store.add_checkin(date(2026, 1, 12), (0, 1, None, 0, 0, 1, 1))
    third = store.add_checkin("2026-01-19", [None, None, 0, 0, 0, 0, 0])
    assert (first.total, first.band) == (16, "moderate")
    assert (second.total, second.band, second.score.unanswered) == (3, "mild", 1)
    assert (third.total, third.band, third.score.scored) == (None, None, False)
    assert store.checkins() == [first, second, third]  # what was handed back is what is read
    assert store.checkins("2026-01-06", "2026-01-19") == [second, third]
    assert store.checkins(to_day="2026-01-05") == [first]
    store.delete_checkin(second.id)
    assert store.checkins() == [first, third]
    with pytest.raises(RecordInputError, match="no check-in"):
        store.delete_checkin(second.id)


def test_a_second_checkin_of_a_date_is_refused_unless_it_replaces_the_first(store):
    """Issue 21 item 2: a second POEM for a date was stored beside the first (18 and 0 on one
    date, both in the timeline and the report)."""
    first = store.add_checkin("2026-01-12", [4, 3, 3, 3, 2, 2, 1])
    counts = _row_counts(store)
    with pytest.raises(CheckinExistsError, match="12 Jan 2026 has a POEM check-in already") as e:
        store.record_day("2026-01-12", answers=[0] * 7, itch=3, note="typo")
    assert e.value.existing == first and isinstance(e.value, RecordInputError)
    assert _row_counts(store) == counts  # nothing at all was stored (nor the itch, nor the note)
    replaced = store.add_checkin("2026-01-12", [0] * 7, replace=True)
    assert (replaced.id, replaced.total, replaced.created_at) == (first.id, 0, first.created_at)
    assert store.checkins(every_row=True) == [replaced]
    assert store.day_entry("2026-01-12").checkin == replaced


def test_record_day_can_remove_the_dates_checkin_and_keep_the_rest(store):
    store.record_day("2026-02-02", answers=[1] * 7, itch=4, note="kept")
    entry = store.record_day("2026-02-02", remove_checkin=True)
    assert entry.checkin is None and store.checkins() == []
    assert store.day_entry("2026-02-02").daily.itch == 4  # the rest of the day stays
    with pytest.raises(RecordInputError, match="given and removed"):
        store.record_day("2026-02-02", answers=[1] * 7, remove_checkin=True)


def _old_duplicate(store, day: str, answers: list[int]) -> None:
    """A second check-in of a date, as a store from before one a day was the rule holds."""
    with store._write() as conn:
        conn.execute(
            "INSERT INTO checkin (day, itchy, sleep_disturbed, bleeding, weeping, cracked, "
            "flaking, dry, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'old')",
            (day, *answers),
        )


def test_an_old_stores_duplicates_are_kept_and_the_newest_of_a_date_counts(store):
    older = store.add_checkin("2026-01-12", [4, 3, 3, 3, 2, 2, 1])  # 18
    _old_duplicate(store, "2026-01-12", [0] * 7)
    store.add_checkin("2026-01-19", [1] * 7)
    assert [c.total for c in store.checkins()] == [0, 7]  # one a date: the newest
    assert [c.total for c in store.checkins(every_row=True)] == [18, 0, 7]  # nothing lost
    day = store.recorded_day("2026-01-12")
    assert [c.total for c in day.checkins] == [18, 0] and day.older_checkins == (older,)
    assert day.checkin.total == 0
    with pytest.raises(CheckinExistsError):  # a third is refused too
        store.add_checkin("2026-01-12", [2] * 7)
    store.delete_checkin(older.id)  # the person deletes the one they don't want
    assert [c.total for c in store.recorded_day("2026-01-12").checkins] == [0]


def test_recorded_days_list_every_date_with_anything_recorded(store):
    store.record_day("2026-03-02", answers=[4, 3, 3, 3, 2, 2, 1], itch=6, sleep_loss=2)
    store.set_day_mark("2026-03-01", flare=True, note="new soap")
    store.set_daily("2026-03-05", itch=1)
    days = store.recorded_days()
    assert [d.day.day for d in days] == [1, 2, 5]
    assert (days[0].flare, days[0].note, days[0].checkin, days[0].daily) == (
        True, "new soap", None, None
    )  # fmt: skip
    assert (days[1].checkin.total, days[1].itch, days[1].sleep_loss, days[1].flare) == (
        18, 6, 2, False
    )  # fmt: skip
    assert [d.day.day for d in store.recorded_days("2026-03-02", "2026-03-04")] == [2]
    assert store.recorded_day("2026-03-03").is_empty


def test_remove_from_day_deletes_the_parts_named_and_put_back_day_undoes_it(store):
    store.record_day("2026-03-02", answers=[2] * 7, itch=6, sleep_loss=2, flare=True, note="n")
    _old_duplicate(store, "2026-03-02", [1] * 7)
    full = store.recorded_day("2026-03-02")
    before = store.remove_from_day("2026-03-02", flare=True)
    assert before == full
    after = store.recorded_day("2026-03-02")
    assert (after.flare, after.note, len(after.checkins), after.itch) == (False, "n", 2, 6)
    store.remove_from_day("2026-03-02", poem=True, note=True)
    after = store.recorded_day("2026-03-02")
    assert (after.checkins, after.mark, after.itch) == ((), None, 6)
    with pytest.raises(RecordInputError, match="Nothing of that is recorded"):
        store.remove_from_day("2026-03-02", poem=True, flare=True)
    with pytest.raises(RecordInputError, match="Say what to delete"):
        store.remove_from_day("2026-03-02")
    store.remove_from_day("2026-03-02", numbers=True)
    assert store.recorded_day("2026-03-02").is_empty and store.recorded_days() == []
    store.put_back_day(full)  # undo: exactly as it was, ids and times included
    assert store.recorded_day("2026-03-02") == full


def test_put_back_day_undoes_an_edit_and_never_overwrites_another_dates_checkin(store):
    before = store.recorded_day("2026-04-01")  # nothing yet
    store.record_day("2026-04-01", answers=[3] * 7, itch=2)
    store.put_back_day(before)  # undo of the first check-in of the day
    assert store.recorded_day("2026-04-01").is_empty
    first = store.add_checkin("2026-04-02", [1] * 7)
    before = store.remove_from_day("2026-04-02", poem=True)
    other = store.add_checkin("2026-04-03", [2] * 7)  # SQLite gives the freed id out again
    assert other.id == first.id
    store.put_back_day(before)
    assert store.checkins("2026-04-03", "2026-04-03") == [other]  # untouched
    back = store.recorded_day("2026-04-02").checkin
    assert (back.answers, back.created_at) == (first.answers, first.created_at)


def test_daily_numbers_merge_per_date_and_clear(store):
    assert store.set_daily(YESTERDAY, itch=7).itch == 7
    both = store.set_daily(YESTERDAY, sleep_loss=2)  # itch kept
    assert (both.itch, both.sleep_loss) == (7, 2)
    store.set_daily("2026-02-01", itch=0, sleep_loss=10)
    assert [(d.day, d.itch, d.sleep_loss) for d in store.daily()] == [
        (date(2026, 2, 1), 0, 10),
        (YESTERDAY, 7, 2),
    ]
    assert store.daily("2026-02-01", "2026-02-01")[0].sleep_loss == 10
    assert store.set_daily(YESTERDAY, itch=None, sleep_loss=None) is None
    assert [d.day for d in store.daily()] == [date(2026, 2, 1)]


def test_day_marks_keep_the_field_not_given_and_vanish_when_empty(store):
    mark = store.set_day_mark("2026-03-03", flare=True)
    assert (mark.flare, mark.note) == (True, "")
    mark = store.set_day_mark("2026-03-03", note="  new soap at work  ")
    assert (mark.flare, mark.note) == (True, "new soap at work")
    store.set_day_mark("2026-03-10", note="swimming")
    assert [m.day.day for m in store.day_marks("2026-03-01", "2026-03-31")] == [3, 10]
    assert store.set_day_mark("2026-03-03", flare=False, note="") is None
    assert [m.note for m in store.day_marks()] == ["swimming"]


def test_record_day_writes_checkin_numbers_and_mark_together(store):
    entry = store.record_day(
        "2026-04-01", answers=[1] * 7, itch=4, sleep_loss=3, flare=True, note="hot week"
    )
    assert entry.checkin.total == 7
    assert (entry.daily.itch, entry.daily.sleep_loss) == (4, 3)
    assert (entry.mark.flare, entry.mark.note) == (True, "hot week")
    assert store.day_entry("2026-04-01") == entry


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"answers": [1, 2, 3]}, "7 questions; 3 answers"),
        ({"answers": [0, 0, 0, 0, 0, 0, 5]}, "answer 7 must be 0 to 4"),
        ({"answers": [0] * 7, "itch": 11}, "itch number must be a whole number 0-10"),
        ({"answers": [0] * 7, "sleep_loss": -1}, "sleep-loss number must be"),
        ({"answers": [0] * 7, "itch": 2.5}, "itch number"),
        ({"answers": [0] * 7, "flare": "yes"}, "flare mark is true or false"),
        ({"answers": [0] * 7, "note": "x" * 10_001}, "at most 10000 characters"),
    ],
)
def test_bad_day_input_is_refused_and_stores_nothing(store, kwargs, message):
    store.set_daily("2026-04-02", itch=1)  # an existing row must not change either
    before = _row_counts(store)
    with pytest.raises(RecordInputError, match=message):
        store.record_day("2026-04-02", **kwargs)
    assert _row_counts(store) == before
    assert store.daily()[0].itch == 1


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (TOMORROW, "lies in the future"),
        (TOMORROW.isoformat(), "lies in the future"),
        ("2026-02-30", "is not a date"),
        ("yesterday", "is not a date"),
        ("20260101", "is not a date"),
        (None, "must be a date"),
    ],
)
def test_bad_or_future_dates_are_refused_everywhere_and_store_nothing(store, day, message):
    treatment = store.add_treatment("Emollient cream", "emollient")
    before = _row_counts(store)
    for write in (
        lambda: store.add_checkin(day, [0] * 7),
        lambda: store.set_daily(day, itch=3),
        lambda: store.set_day_mark(day, flare=True),
        lambda: store.add_course(treatment.id, day),
        *([] if day is None else [lambda: store.add_course(treatment.id, "2026-01-01", day)]),
    ):
        with pytest.raises(RecordInputError, match=message):
            write()
    assert _row_counts(store) == before


def test_today_is_accepted_and_a_range_ending_in_the_future_reads(store):
    store.add_checkin(TODAY, [0] * 7)
    assert len(store.checkins(YESTERDAY, TOMORROW)) == 1
    with pytest.raises(RecordInputError, match="ends before it starts"):
        store.checkins(TODAY, YESTERDAY)


def test_treatments_add_list_update_and_refusals(store):
    cream = store.add_treatment("  Hydrocortisone   1% ", "topical_corticosteroid", "mild")
    assert (cream.name, cream.kind, cream.potency) == (
        "Hydrocortisone 1%",
        "topical_corticosteroid",
        "mild",
    )
    assert cream.kind_label == "topical corticosteroid"
    store.add_treatment("Cetirizine", "antihistamine")
    assert [t.name for t in store.treatments()] == ["Cetirizine", "Hydrocortisone 1%"]
    assert store.find_treatment("hydrocortisone 1%") == cream
    assert store.find_treatment("nothing") is None
    before = _row_counts(store)
    for args, message in (
        (("HYDROCORTISONE 1%", "other"), "already a treatment called 'Hydrocortisone 1%'"),
        (("Dupilumab", "biologic"), "'biologic' is not a kind of treatment"),
        (("Cream", "emollient", "mild"), "Only a topical corticosteroid has a potency"),
        (("Betnovate", "topical_corticosteroid", "strong"), "'strong' is not a potency"),
        (("   ", "other"), "needs a name"),
    ):
        with pytest.raises(RecordInputError, match=message):
            store.add_treatment(*args)
    assert _row_counts(store) == before

    stronger = store.update_treatment(cream.id, name="Betnovate", potency="potent")
    assert store.treatment(cream.id) == stronger
    assert (stronger.name, stronger.potency) == ("Betnovate", "potent")
    changed = store.update_treatment(cream.id, kind="other")  # the potency goes with the kind
    assert (changed.kind, changed.potency) == ("other", None)
    with pytest.raises(RecordInputError, match="already a treatment called 'Cetirizine'"):
        store.update_treatment(cream.id, name="cetirizine")
    with pytest.raises(RecordInputError, match="Only a topical corticosteroid"):
        store.update_treatment(cream.id, potency="mild")
    with pytest.raises(RecordInputError, match="no treatment 99"):
        store.update_treatment(99, name="x")
    assert store.treatment(cream.id) == changed


def test_courses_end_after_they_start_and_are_found_by_overlap(store):
    cream = store.add_treatment("Tacrolimus 0.1%", "topical_calcineurin_inhibitor")
    pill = store.add_treatment("Cetirizine", "antihistamine")
    march = store.add_course(cream.id, "2026-03-01", "2026-03-14", times_a_day=2)
    going = store.add_course(pill.id, "2026-03-10")
    assert (march.treatment_name, march.times_a_day, going.end) == ("Tacrolimus 0.1%", 2, None)
    assert march.active_on(date(2026, 3, 14)) and not march.active_on(date(2026, 3, 15))
    assert store.courses() == [march, going]
    assert store.courses(from_day="2026-03-15") == [going]
    assert store.courses(to_day="2026-03-09") == [march]
    assert store.courses(pill.id) == [going]
    before = _row_counts(store)
    with pytest.raises(RecordInputError, match=r"cannot end \(2026-02-28\) before it starts"):
        store.add_course(cream.id, "2026-03-01", "2026-02-28")
    with pytest.raises(RecordInputError, match="Times a day must be a whole number 1-24"):
        store.add_course(cream.id, "2026-03-01", times_a_day=0)
    with pytest.raises(RecordInputError, match="no treatment 42"):
        store.add_course(42, "2026-03-01")
    with pytest.raises(RecordInputError, match="cannot end"):
        store.end_course(going.id, "2026-03-09")
    assert _row_counts(store) == before
    ended = store.end_course(going.id, "2026-03-20")
    assert store.course(going.id) == ended and ended.end == date(2026, 3, 20)
    assert store.end_course(going.id, None).end is None
    store.delete_course(march.id)
    assert store.courses() == [store.course(going.id)]


def test_deleting_a_treatment_with_courses_is_refused_unless_asked(store):
    cream = store.add_treatment("Emollient", "emollient")
    store.add_course(cream.id, "2026-01-01", "2026-01-31")
    store.add_course(cream.id, "2026-02-01")
    with pytest.raises(RecordInputError, match="'Emollient' has 2 course"):
        store.delete_treatment(cream.id)
    assert len(store.courses()) == 2 and store.treatments()
    assert store.delete_treatment(cream.id, with_courses=True) == 2
    assert store.treatments() == [] and store.courses() == []
    empty = store.add_treatment("Other", "other")
    assert store.delete_treatment(empty.id) == 0


def test_the_schema_refuses_impossible_values_even_from_sql(store):
    conn = store._db
    for sql in (
        "INSERT INTO checkin (day, itchy, created_at) VALUES ('2026-01-01', 5, 'x')",
        "INSERT INTO checkin (day, created_at) VALUES ('1 Jan 2026', 'x')",
        "INSERT INTO daily_numbers (day, itch, updated_at) VALUES ('2026-01-01', 11, 'x')",
        "INSERT INTO treatment (name, kind, created_at) VALUES ('a', 'cream', 'x')",
        "INSERT INTO treatment (name, kind, potency, created_at) VALUES ('a', 'other', 'mild', 'x')",
        "INSERT INTO day_mark (day, flare, updated_at) VALUES ('2026-01-01', 2, 'x')",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)
    conn.execute("INSERT INTO treatment (name, kind, created_at) VALUES ('a', 'other', 'x')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO course (treatment_id, start_day, end_day, created_at) "
            "VALUES (1, '2026-02-01', '2026-01-01', 'x')"
        )
    with pytest.raises(sqlite3.IntegrityError):  # the course's treatment must exist
        conn.execute(
            "INSERT INTO course (treatment_id, start_day, created_at) VALUES (9, '2026-02-01', 'x')"
        )


def test_records_survive_reopening_and_a_readonly_store_refuses_writes(tmp_path):
    with Store.open(tmp_path / "s") as store:
        store.record_day("2026-05-01", answers=[2] * 7, itch=5, flare=True)
        store.add_course(store.add_treatment("Cream", "emollient").id, "2026-05-01")
    with Store.open(tmp_path / "s", readonly=True) as store:
        assert store.checkins()[0].total == 14
        assert store.daily()[0].itch == 5 and store.day_marks()[0].flare
        assert store.courses()[0].treatment_name == "Cream"
        with pytest.raises(StoreReadOnlyError):
            store.add_checkin("2026-05-02", [0] * 7)
        assert issubclass(RecordInputError, StoreError)


def test_overlapping_courses_of_one_treatment_are_refused_naming_the_existing_one(store):
    cream = store.add_treatment("Betnovate", "topical_corticosteroid", "potent")
    pill = store.add_treatment("Cetirizine", "antihistamine")
    january = store.add_course(cream.id, "2026-01-01", "2026-01-10")
    going = store.add_course(cream.id, "2026-02-01")
    store.add_course(pill.id, "2026-01-05")  # another treatment's course may run alongside
    before = _row_counts(store)
    for start, end, named in (
        ("2026-02-10", None, "from 2026-02-01, ongoing"),  # a second ongoing course
        ("2026-01-10", "2026-01-12", "from 2026-01-01 to 2026-01-10"),  # shares its last day
        ("2025-12-01", "2026-03-01", "from 2026-01-01 to 2026-01-10"),  # around both
    ):
        with pytest.raises(RecordInputError, match=f"already has a course {named}, which overl"):
            store.add_course(cream.id, start, end)
    # running a course longer into another is refused; ending it earlier is not
    with pytest.raises(RecordInputError, match="course from 2026-02-01, ongoing"):
        store.end_course(january.id, "2026-02-05")
    assert _row_counts(store) == before and store.course(january.id) == january
    between = store.add_course(cream.id, "2026-01-11", "2026-01-31")  # the gap between them
    assert store.end_course(going.id, "2026-02-20").end == date(2026, 2, 20)
    with pytest.raises(RecordInputError, match="course from 2026-01-11 to 2026-01-31"):
        store.end_course(january.id, "2026-01-11")
    assert [c.id for c in store.courses(cream.id)] == [january.id, between.id, going.id]


def test_overlaps_stored_before_the_rule_are_kept_and_can_be_ended(store):
    cream = store.add_treatment("Betnovate", "topical_corticosteroid", "potent")
    first = store.add_course(cream.id, "2026-01-01")
    with store._write() as conn:  # an old store: a second ongoing course of the same treatment
        conn.execute(
            "INSERT INTO course (treatment_id, start_day, created_at) VALUES (?, ?, ?)",
            (cream.id, "2026-02-01", "2026-02-01T00:00:00"),
        )
    assert len(store.courses(cream.id)) == 2  # nothing is deleted
    assert store.end_course(first.id, "2026-01-31").end == date(2026, 1, 31)  # ending is fine


def test_a_potency_on_another_kind_is_refused_with_an_article_that_fits(store):
    with pytest.raises(RecordInputError, match="has a potency, not an emollient\\.$"):
        store.add_treatment("Cream", "emollient", "potent")
    with pytest.raises(RecordInputError, match="not an antihistamine\\.$"):
        store.add_treatment("Pill", "antihistamine", "mild")
    with pytest.raises(RecordInputError, match="not a systemic / biologic\\.$"):
        store.add_treatment("Jab", "systemic_biologic", "mild")
    assert store.treatments() == []


def test_an_old_overlap_never_blocks_running_a_course_longer_into_free_days(tmp_path):
    """Found in review: only the added days are checked against the other courses."""
    with Store.open(tmp_path / "store") as store:
        treatment = store.add_treatment("Betnovate", "topical_corticosteroid", potency="potent")
        first = store.add_course(treatment.id, date(2026, 1, 1), date(2026, 1, 10))
        with store._write() as conn:  # what a store from before the overlap rule may hold
            conn.execute(
                "INSERT INTO course (treatment_id, start_day, end_day, created_at) "
                "VALUES (?, '2026-01-05', '2026-01-08', '2026-01-05T00:00:00')",
                (treatment.id,),
            )
        store.add_course(treatment.id, date(2026, 1, 25), date(2026, 1, 28))
        longer = store.end_course(first.id, date(2026, 1, 20))
        assert longer.end == date(2026, 1, 20)
        with pytest.raises(RecordInputError, match="already has a course from 2026-01-25"):
            store.end_course(first.id, date(2026, 1, 26))
