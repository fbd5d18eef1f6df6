"""``eczema-tracker checkin`` and ``treatments add|list|course``: output, refusals, nothing stored."""

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
    """The record commands registered as cli.py will once they are in COMMAND_MODULES."""
    modules = tuple(cli.COMMAND_MODULES)
    if "eczema_tracker.commands.record_commands" not in modules:
        modules += ("eczema_tracker.commands.record_commands",)
    monkeypatch.setattr(cli, "COMMAND_MODULES", modules)


@pytest.fixture()
def data_dir(tmp_path):
    folder = tmp_path / "store"
    Store.open(folder).close()
    return folder


def _run(capsys, data_dir, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--data-dir", str(data_dir), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _counts(data_dir) -> tuple[int, ...]:
    with Store.open(data_dir, readonly=True) as store:
        return (
            len(store.checkins()),
            len(store.daily()),
            len(store.treatments()),
            len(store.courses()),
            len(store.day_marks()),
        )


def test_checkin_with_everything_prints_the_day_as_json(capsys, data_dir):
    code, out, err = _run(
        capsys,
        data_dir,
        "checkin",
        "--date",
        "2026-03-02",
        "--poem",
        "4,3,1,0,2,3,3",
        "--itch",
        "6",
        "--sleep",
        "2",
        "--flare",
        "--note",
        "new detergent",
        "--json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "date": "2026-03-02",
        "poem_total": 16,
        "poem_band": "moderate",
        "itch": 6,
        "sleep": 2,
    }
    with Store.open(data_dir, readonly=True) as store:
        entry = store.day_entry("2026-03-02")
        assert entry.checkin.answers == (4, 3, 1, 0, 2, 3, 3)
        assert (entry.mark.flare, entry.mark.note) == (True, "new detergent")


def test_checkin_defaults_to_today_merges_numbers_and_says_what_it_stored(capsys, data_dir):
    code, out, _ = _run(capsys, data_dir, "checkin", "--itch", "3")
    assert code == 0 and out.strip() == f"{TODAY.isoformat()}: itch 3/10"
    code, out, _ = _run(capsys, data_dir, "checkin", "--sleep", "5", "--json")
    assert json.loads(out) == {
        "date": TODAY.isoformat(),
        "poem_total": None,
        "poem_band": None,
        "itch": 3,
        "sleep": 5,
    }
    code, out, _ = _run(capsys, data_dir, "checkin", "--poem", "1,1,1,1,1,1,1")
    assert out.strip() == f"{TODAY.isoformat()}: POEM 7/28 (mild); itch 3/10; sleep loss 5/10"


def test_unanswered_poem_items_follow_the_missing_answer_rule(capsys, data_dir):
    code, out, err = _run(
        capsys, data_dir, "checkin", "--date", "2026-03-09", "--poem", "3,-,2,1,0,2,4", "--json"
    )
    assert code == 0 and json.loads(out)["poem_total"] == 12
    assert "one unanswered question counted as 0" in err
    code, out, err = _run(
        capsys, data_dir, "checkin", "--date", "2026-03-16", "--poem", "3,,2,-,0,2,4", "--json"
    )
    assert code == 0
    assert (json.loads(out)["poem_total"], json.loads(out)["poem_band"]) == (None, None)
    assert "Not scored: 2 of 7 questions are unanswered" in err
    with Store.open(data_dir, readonly=True) as store:  # stored all the same
        assert store.checkins()[-1].answers == (3, None, 2, None, 0, 2, 4)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--poem", "1,2,3"], "--poem needs 7 answers separated by commas"),
        (["--poem", "1,2,3,4,0,1,2,3"], "(got 8)"),
        (["--poem", "0,0,0,5,0,0,0", "--itch", "2"], "--poem answer 4 must be a whole number 0-4"),
        (["--poem", "0,0,0,x,0,0,0"], "--poem answer 4 must be"),
        (["--itch", "11"], "--itch must be a whole number 0-10 (got '11')"),
        (["--itch", "2", "--sleep", "-1"], "--sleep must be a whole number 0-10"),
        (["--itch", "high"], "--itch must be"),
        (["--date", "2026-13-01", "--itch", "2"], "is not a date"),
        (["--date", "last tuesday", "--itch", "2"], "is not a date"),
        (["--date", TOMORROW.isoformat(), "--poem", "0,0,0,0,0,0,0"], "lies in the future"),
        (["--date", "2026-01-01"], "nothing to record"),
    ],
)
def test_bad_checkin_input_exits_2_in_one_line_and_stores_nothing(capsys, data_dir, argv, message):
    _run(capsys, data_dir, "checkin", "--date", "2026-01-02", "--itch", "1")  # something there
    before = _counts(data_dir)
    code, out, err = _run(capsys, data_dir, "checkin", *argv)
    assert code == 2 and out == ""
    assert err.startswith("eczema-tracker: error: ") and err.count("\n") == 1
    assert message in err
    assert _counts(data_dir) == before


def test_treatments_add_list_and_course(capsys, data_dir):
    code, out, _ = _run(
        capsys, data_dir, "treatments", "add", "Betnovate", "--kind", "topical-corticosteroid",
        "--potency", "very potent",
    )  # fmt: skip
    assert (
        code == 0
        and out.strip() == "added treatment Betnovate (topical corticosteroid, very potent)"
    )
    assert (
        _run(capsys, data_dir, "treatments", "add", "Cetirizine", "--kind", "antihistamine")[0] == 0
    )
    code, out, _ = _run(
        capsys, data_dir, "treatments", "course", "betnovate", "--start", "2026-02-01",
        "--end", "2026-02-14", "--times-a-day", "2", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {
        "id": 1,
        "treatment": "Betnovate",
        "start": "2026-02-01",
        "end": "2026-02-14",
        "times_a_day": 2,
    }
    code, out, _ = _run(
        capsys, data_dir, "treatments", "course", "Cetirizine", "--start", "2026-02-10"
    )
    assert code == 0 and "2026-02-10 to ongoing" in out
    code, out, _ = _run(capsys, data_dir, "treatments", "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["name"], r["kind"], r["potency"]) for r in rows] == [
        ("Betnovate", "topical_corticosteroid", "very_potent"),
        ("Cetirizine", "antihistamine", None),
    ]
    assert rows[0]["courses"][0]["end"] == "2026-02-14" and rows[1]["courses"][0]["end"] is None
    code, out, _ = _run(capsys, data_dir, "treatments", "list")
    assert out.splitlines() == [
        "Betnovate (topical corticosteroid, very potent)",
        "    2026-02-01 to 2026-02-14, 2 time(s) a day",
        "Cetirizine (antihistamine)",
        "    2026-02-10 to ongoing",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "Cream", "--kind", "lotion"], "--kind must be one of emollient"),
        (["add", "Cream", "--kind", "emollient", "--potency", "mild"], "only a topical corticosteroid"),
        (["add", "X", "--kind", "steroid", "--potency", "strong"], "--potency must be one of"),
        (["add", "EMOLLIENT", "--kind", "other"], "already a treatment called 'Emollient'"),
        (["course", "Nothing", "--start", "2026-01-01"], "no treatment 'Nothing' (your treatments: 'Emollient'"),
        (["course", "Emollient", "--start", "2026-02-01", "--end", "2026-01-31"], "cannot end before it starts"),
        (["course", "Emollient", "--start", TOMORROW.isoformat()], "lies in the future"),
        (["course", "Emollient", "--start", "2026-01-01", "--times-a-day", "0"], "--times-a-day must be a whole number 1-24"),
        (["course", "Emollient", "--start", "01/02/2026"], "is not a date"),
    ],
)  # fmt: skip
def test_bad_treatment_input_exits_2_in_one_line_and_stores_nothing(
    capsys, data_dir, argv, message
):
    _run(capsys, data_dir, "treatments", "add", "Emollient", "--kind", "emollient")
    before = _counts(data_dir)
    code, out, err = _run(capsys, data_dir, "treatments", *argv)
    assert code == 2 and out == ""
    assert err.startswith("eczema-tracker: error: ") and err.count("\n") == 1
    assert message in err
    assert _counts(data_dir) == before


def test_treatments_list_of_an_empty_store_says_how_to_add_one(capsys, data_dir):
    code, out, err = _run(capsys, data_dir, "treatments", "list")
    assert (code, out) == (0, "") and "treatments add NAME --kind KIND" in err


def test_export_csv_runner_writes_the_files_and_refuses_a_file_in_the_way(
    capsys, data_dir, tmp_path
):
    import argparse

    from eczema_tracker.commands.record_commands import run_export_csv

    _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--poem", "1,1,1,1,1,1,1")
    out = tmp_path / "csv"
    assert run_export_csv(argparse.Namespace(data_dir=str(data_dir), csv=str(out))) == 0
    printed = capsys.readouterr().out
    folder = out / f"eczema-record-{TODAY.isoformat()}"
    assert "checkins.csv 1" in printed and str(folder) in printed
    assert (folder / "checkins.csv").read_text(encoding="utf-8").count("\n") == 2
    assert (folder / "README.txt").is_file()
    (tmp_path / "file").write_text("x")
    with pytest.raises(cli.CliError, match="is a file, not a folder"):
        run_export_csv(argparse.Namespace(data_dir=str(data_dir), csv=str(tmp_path / "file")))


def test_no_flare_removes_the_mark_and_an_empty_note_clears_it(capsys, data_dir):
    _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--flare", "--note", "hives")
    code, out, _ = _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--no-flare")
    assert code == 0 and out.strip() == "2026-03-02: note: hives"
    code, out, _ = _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--note", "")
    assert out.strip() == "2026-03-02: nothing recorded"
    with Store.open(data_dir, readonly=True) as store:
        assert store.day_marks() == []


def test_export_csv_from_the_command_line(capsys, data_dir, tmp_path):
    _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--itch", "4")
    out = tmp_path / "csv"
    out.mkdir()
    (out / "README.txt").write_text("the person's own")
    assert cli.main(["export", "--csv", str(out), "--data-dir", str(data_dir)]) == 0
    assert (out / "README.txt").read_text() == "the person's own"
    (folder,) = out.glob("eczema-record-*")
    assert str(folder) in capsys.readouterr().out
    assert {p.name for p in folder.iterdir()} >= {
        "checkins.csv",
        "daily_numbers.csv",
        "README.txt",
    }
    assert "2026-03-02" in (folder / "daily_numbers.csv").read_text(encoding="utf-8")
    code = cli.main(["export", "--csv", str(data_dir), "--data-dir", str(data_dir)])
    assert code == 2 and "inside the photo store" in capsys.readouterr().err
    assert not list(data_dir.glob("*eczema-record*"))
    with pytest.raises(SystemExit):  # --out and --csv are one or the other
        cli.main(["export", "--csv", str(out), "--out", str(tmp_path / "b.zip")])


# -- one POEM a day; list and delete (issue 21, item 2) --------------------------------------------
POEM_18 = "4,3,3,3,2,2,1"


def test_a_second_poem_for_a_day_is_refused_without_replace(capsys, data_dir):
    """Before: a corrected `checkin --date D --poem ...` added a second row (18 and 0 on one day)."""
    _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--poem", POEM_18)
    counts = _counts(data_dir)
    code, out, err = _run(
        capsys,
        data_dir,
        "checkin",
        "--date",
        "2026-03-02",
        "--poem",
        "0,0,0,0,0,0,0",
        "--itch",
        "4",
    )
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "2026-03-02 has a POEM check-in already (POEM 18/28 (severe))" in err
    assert "add --replace to replace it" in err
    assert _counts(data_dir) == counts  # nothing stored, not even the itch number
    code, out, err = _run(
        capsys, data_dir, "checkin", "--date", "2026-03-02", "--poem", "0,0,0,0,0,0,0", "--replace"
    )
    assert code == 0 and out.strip() == "2026-03-02: POEM 0/28 (clear or almost clear)"
    assert "replaced the POEM of 2026-03-02 (POEM 18/28 (severe), answers 4,3,3,3,2,2,1)" in err
    with Store.open(data_dir, readonly=True) as store:
        assert [c.total for c in store.checkins(every_row=True)] == [0]


def test_checkin_list_shows_a_day_a_line_and_json_lines(capsys, data_dir):
    _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--poem", POEM_18, "--itch", "6")
    _run(capsys, data_dir, "checkin", "--date", "2026-03-01", "--flare", "--note", "new soap")
    _run(capsys, data_dir, "checkin", "--date", "2026-03-09", "--sleep", "3")
    code, out, _ = _run(capsys, data_dir, "checkin", "list")
    assert code == 0 and out.splitlines() == [
        "2026-03-01: flare; note: new soap",
        "2026-03-02: POEM 18/28 (severe); itch 6/10",
        "2026-03-09: sleep loss 3/10",
    ]
    code, out, _ = _run(
        capsys, data_dir, "checkin", "list", "--from", "2026-03-02", "--to", "2026-03-08", "--json"
    )
    assert code == 0 and [json.loads(line) for line in out.splitlines()] == [
        {
            "date": "2026-03-02",
            "poem_total": 18,
            "poem_band": "severe",
            "poem_answers": [4, 3, 3, 3, 2, 2, 1],
            "older_poems": [],
            "itch": 6,
            "sleep": None,
            "flare": False,
            "note": "",
        }
    ]
    code, out, err = _run(
        capsys, data_dir, "checkin", "list", "--from", "2026-03-09", "--to", "2026-03-01"
    )
    assert code == 2 and "--to 2026-03-01 is before --from 2026-03-09" in err


def test_checkin_list_shows_an_old_stores_second_poem_of_a_day(capsys, data_dir):
    with Store.open(data_dir) as store:
        store.add_checkin("2026-03-02", [4, 3, 3, 3, 2, 2, 1])
        with store._write() as conn:  # as a store from before one a day was the rule
            conn.execute(
                "INSERT INTO checkin (day, itchy, sleep_disturbed, bleeding, weeping, cracked, "
                "flaking, dry, created_at) VALUES ('2026-03-02', 0, 0, 0, 0, 0, 0, 0, "
                "'2026-03-02T20:00:00')"
            )
    code, out, _ = _run(capsys, data_dir, "checkin", "list")
    lines = out.splitlines()
    assert lines[0] == "2026-03-02: POEM 0/28 (clear or almost clear)"
    assert lines[1].startswith("    also an older POEM 18/28 (severe) of this day, not counted")
    code, out, _ = _run(capsys, data_dir, "checkin", "list", "--json")
    row = json.loads(out)
    assert row["poem_total"] == 0 and [p["poem_total"] for p in row["older_poems"]] == [18]


def test_checkin_delete_removes_the_parts_named_and_says_how_to_record_them_again(capsys, data_dir):
    _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--poem", POEM_18, "--itch", "6",
         "--sleep", "2", "--flare", "--note", "bad week")  # fmt: skip
    code, out, err = _run(capsys, data_dir, "checkin", "delete", "--date", "2026-03-02", "--poem")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "deleted from 2026-03-02: POEM 18/28 (severe)",
        "to record it again: eczema-tracker checkin --date 2026-03-02 --poem 4,3,3,3,2,2,1",
    ]
    code, out, _ = _run(
        capsys, data_dir, "checkin", "delete", "--date", "2026-03-02", "--numbers", "--note"
    )
    assert code == 0 and out.splitlines()[0] == (
        "deleted from 2026-03-02: itch 6/10; sleep loss 2/10; note: bad week"
    )
    assert "--itch 6 --sleep 2 --note 'bad week'" in out
    with Store.open(data_dir, readonly=True) as store:
        day = store.recorded_day("2026-03-02")
        assert (day.checkins, day.daily, day.flare, day.note) == ((), None, True, "")
    code, out, err = _run(capsys, data_dir, "checkin", "delete", "--date", "2026-03-02", "--poem")
    assert code == 2 and "2026-03-02 has none of that recorded; nothing was deleted" in err


def test_checkin_delete_of_a_whole_day_says_what_it_removes_and_needs_yes(capsys, data_dir):
    _run(capsys, data_dir, "checkin", "--date", "2026-03-02", "--poem", POEM_18, "--flare")
    counts = _counts(data_dir)
    code, out, err = _run(capsys, data_dir, "checkin", "delete", "--date", "2026-03-02")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "would delete everything recorded on 2026-03-02 (POEM 18/28 (severe); flare)" in err
    assert "add --yes" in err
    assert _counts(data_dir) == counts
    code, out, _ = _run(capsys, data_dir, "checkin", "delete", "--date", "2026-03-02", "--yes")
    assert (
        code == 0 and out.splitlines()[0] == "deleted from 2026-03-02: POEM 18/28 (severe); flare"
    )
    assert _counts(data_dir) == (0, 0, 0, 0, 0)
    code, _, err = _run(capsys, data_dir, "checkin", "delete", "--date", "2026-03-02", "--yes")
    assert code == 2 and "2026-03-02 has nothing recorded; nothing was deleted" in err


def test_the_command_that_records_a_deleted_note_again_gives_back_the_very_note(tmp_path, capsys):
    """Found in review: a note with a newline was printed as a literal backslash-n."""
    import shutil
    import subprocess

    note = "line 1\nline 2\twith 'quotes' and \\ and \x1b[2J"
    folder = str(tmp_path / "store")
    assert cli.main(["--data-dir", folder, "checkin", "--date", "2026-12-01", "--note", note]) == 0
    capsys.readouterr()
    assert (
        cli.main(["--data-dir", folder, "checkin", "delete", "--date", "2026-12-01", "--note"]) == 0
    )
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\n" not in out.split("to record it again: ")[1].rstrip("\n")
    command = out.split("to record it again: ")[1].strip()
    word = command.split("--note ", 1)[1]
    if shutil.which("bash"):
        echoed = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, text=True)
        assert echoed.stdout == note
