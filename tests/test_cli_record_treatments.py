"""``eczema-tracker treatments end|edit|delete``: what they change, and refusals (exit 2, one
line, nothing stored)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from eczema_tracker import cli
from eczema_tracker.store import Store

TODAY = date.today()
TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _with_record_commands(monkeypatch):
    modules = tuple(cli.COMMAND_MODULES)
    if "eczema_tracker.commands.record_commands" not in modules:
        modules += ("eczema_tracker.commands.record_commands",)
    monkeypatch.setattr(cli, "COMMAND_MODULES", modules)


@pytest.fixture()
def data_dir(tmp_path):
    folder = tmp_path / "store"
    with Store.open(folder) as store:
        cream = store.add_treatment("Betnovate", "topical_corticosteroid", "potent")
        store.add_course(cream.id, "2026-01-01", "2026-01-10")
        store.add_course(cream.id, "2026-02-01")
        store.add_treatment("Cetirizine", "antihistamine")
    return folder


def _run(capsys, data_dir, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--data-dir", str(data_dir), "treatments", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _state(data_dir) -> list[tuple]:
    with Store.open(data_dir, readonly=True) as store:
        return [
            (t.name, t.kind, t.potency, tuple((c.start, c.end) for c in store.courses(t.id)))
            for t in store.treatments()
        ]


def test_end_closes_the_ongoing_course(capsys, data_dir):
    code, out, _ = _run(capsys, data_dir, "end", "betnovate", "--date", "2026-02-20", "--json")
    assert code == 0
    assert json.loads(out)["start"] == "2026-02-01" and json.loads(out)["end"] == "2026-02-20"
    assert _state(data_dir)[0][3] == (
        (date(2026, 1, 1), date(2026, 1, 10)),
        (date(2026, 2, 1), date(2026, 2, 20)),
    )


def test_end_defaults_to_today(capsys, data_dir):
    code, out, _ = _run(capsys, data_dir, "end", "Betnovate")
    assert code == 0 and f"2026-02-01 to {TODAY.isoformat()}" in out


def test_edit_renames_and_changes_the_kind(capsys, data_dir):
    code, out, _ = _run(capsys, data_dir, "edit", "Betnovate", "--potency", "very potent")
    assert code == 0 and "to Betnovate (topical corticosteroid, very potent)" in out
    code, out, _ = _run(
        capsys, data_dir, "edit", "betnovate", "--name", "Betnovate RD", "--kind", "other", "--json"
    )
    assert code == 0
    row = json.loads(out)
    assert (row["name"], row["kind"], row["potency"], len(row["courses"])) == (
        "Betnovate RD", "other", None, 2
    )  # fmt: skip


def test_delete_keeps_history_unless_asked(capsys, data_dir):
    before = _state(data_dir)
    code, out, err = _run(capsys, data_dir, "delete", "Betnovate")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "has 2 course(s)" in err and "--with-courses" in err
    assert _state(data_dir) == before
    code, out, _ = _run(capsys, data_dir, "delete", "Betnovate", "--with-courses")
    assert code == 0 and "and its 2 course(s)" in out
    code, out, _ = _run(capsys, data_dir, "delete", "cetirizine")
    assert code == 0 and out.strip() == "deleted treatment Cetirizine (antihistamine)"
    assert _state(data_dir) == []
    with Store.open(data_dir, readonly=True) as store:
        assert store.courses() == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["end", "Nothing"], "no treatment 'Nothing' (your treatments: 'Betnovate', 'Cetirizine'"),
        (["end", "Cetirizine"], "'Cetirizine' has no ongoing course"),
        (["end", "Betnovate", "--date", "2026-01-31"], "cannot end before it starts"),
        (["end", "Betnovate", "--date", TOMORROW.isoformat()], "lies in the future"),
        (["end", "Betnovate", "--date", "20/02/2026"], "is not a date"),
        (["edit", "Betnovate"], "nothing to change"),
        (["edit", "Betnovate", "--name", "cetirizine"], "already a treatment called 'Cetirizine'"),
        (["edit", "Betnovate", "--name", "  "], "needs a name"),
        (["edit", "Cetirizine", "--potency", "mild"], "only a topical corticosteroid"),
        (["edit", "Betnovate", "--kind", "lotion"], "--kind must be one of"),
        (["edit", "Betnovate", "--potency", "strong"], "--potency must be one of"),
        (["delete", "Nothing"], "no treatment 'Nothing'"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_in_one_line_and_stores_nothing(capsys, data_dir, argv, message):
    before = _state(data_dir)
    code, out, err = _run(capsys, data_dir, *argv)
    assert code == 2 and out == ""
    assert err.startswith("eczema-tracker: error: ") and err.count("\n") == 1
    assert message in err
    assert _state(data_dir) == before


def test_treatments_add_help_shows_the_percent_example(capsys):
    """Issue 22 item 10: a bare '%' in a help text made ``--help`` crash."""
    with pytest.raises(SystemExit) as stop:
        cli.main(["treatments", "add", "--help"])
    assert stop.value.code == 0
    assert "Hydrocortisone 1% cream" in capsys.readouterr().out


def test_terminal_escapes_in_names_and_notes_are_shown_escaped(capsys, tmp_path):
    """Issue 22 item 13: control characters a person typed never reach the terminal raw."""
    folder = tmp_path / "store"
    hostile = "Cream\x1b]0;pwned\x07\x1b[2J"
    with Store.open(folder) as store:
        store.add_treatment(hostile, "emollient")
    code, out, _ = _run(capsys, folder, "list")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "Cream\\x1b]0;pwned\\x07\\x1b[2J (emollient" in out
    code, out, err = _run(capsys, folder, "delete", "No\x1b[31mSuch")
    assert code == 2 and "\x1b" not in err and "No\\x1b[31mSuch" in err
    code = cli.main(["--data-dir", str(folder), "checkin", "--note", "line 1\nline 2\x1b[2J"])
    out = capsys.readouterr().out
    assert code == 0 and "\x1b" not in out and "note: line 1\\nline 2\\x1b[2J" in out


def test_checkin_list_and_delete_show_a_notes_control_characters_escaped(capsys, tmp_path):
    folder = tmp_path / "store"
    note = "tea\x1b]0;pwned\x07\x1b[2J"
    assert (
        cli.main(["--data-dir", str(folder), "checkin", "--date", "2026-12-01", "--note", note])
        == 0
    )
    capsys.readouterr()
    assert cli.main(["--data-dir", str(folder), "checkin", "list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "tea\\x1b]0;pwned\\x07" in out
    args = ["--data-dir", str(folder), "checkin", "delete", "--date", "2026-12-01", "--note"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and out.count("tea\\x1b]0;pwned") == 2


def _add_second_ongoing_course(data_dir) -> None:
    """What a store from before overlapping courses were refused may hold."""
    with Store.open(data_dir) as store, store._write() as conn:
        treatment = store.find_treatment("Betnovate")
        conn.execute(
            "INSERT INTO course (treatment_id, start_day, created_at) VALUES (?, ?, ?)",
            (treatment.id, "2026-02-10", "2026-02-10T00:00:00"),
        )


def test_a_course_overlapping_another_is_refused_naming_it(capsys, data_dir):
    before = _state(data_dir)
    code, out, err = _run(capsys, data_dir, "course", "Betnovate", "--start", "2026-02-15")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "already has a course from 2026-02-01, ongoing, which overlaps" in err
    assert _state(data_dir) == before


def test_end_with_several_ongoing_courses_asks_which_and_changes_nothing(capsys, data_dir):
    _add_second_ongoing_course(data_dir)
    before = _state(data_dir)
    code, out, err = _run(capsys, data_dir, "end", "Betnovate", "--date", "2026-02-20")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "has 2 ongoing courses (started 2026-02-01, 2026-02-10)" in err and "--start" in err
    assert _state(data_dir) == before
    code, out, _ = _run(
        capsys, data_dir, "end", "Betnovate", "--start", "2026-02-01", "--date", "2026-02-09"
    )
    assert code == 0 and "2026-02-01 to 2026-02-09" in out
    code, out, err = _run(capsys, data_dir, "end", "Betnovate", "--start", "2026-01-01")
    assert code == 2 and "no ongoing course that started on 2026-01-01" in err
    code, out, _ = _run(capsys, data_dir, "end", "Betnovate", "--date", "2026-02-20")
    assert code == 0 and "2026-02-10 to 2026-02-20" in out  # the one left ongoing
