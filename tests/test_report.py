"""The report for the doctor: what it gathers, the PDF it writes, and the ``report`` command."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PageObject, PdfReader

from eczema_tracker.app.report import pdf as report_layout
from eczema_tracker.app.report.data import PhotoPoint, gather_report, strip_points
from eczema_tracker.app.report.document import ReportDocument
from eczema_tracker.app.report.pdf import day_text, write_report
from eczema_tracker.app.report.request import ReportInputError, check_request, default_paper
from eczema_tracker.app.report.summary import model_sentence, week_heading
from eczema_tracker.cli import CliError, common_options
from eczema_tracker.commands import report_command
from eczema_tracker.core.jobs import Cancelled
from eczema_tracker.store import Store
from tests.report_support import NAME, SITES, populate


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A store with two sites of four photos each and a record (see report_support)."""
    folder = tmp_path_factory.mktemp("report")
    with Store.open(folder / "store") as store:
        info = populate(store, folder / "photos")
    return folder / "store", info


@pytest.fixture(scope="module")
def report_pdf(populated, tmp_path_factory):
    """The report of the whole populated range, written once: (path, range info)."""
    data_dir, info = populated
    out = tmp_path_factory.mktemp("out") / "report.pdf"
    with Store.open(data_dir, readonly=True) as store:
        request = check_request(info["from"], info["to"], name=NAME, paper="a4")
        written = write_report(gather_report(store, request), out)
    assert written.path == out
    return out, info, written


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _images(page: PageObject) -> int:
    resources = page.get("/Resources") or {}
    xobjects = resources.get("/XObject") or {}
    return sum(1 for ref in xobjects.values() if ref.get_object().get("/Subtype") == "/Image")


# -- the PDF --------------------------------------------------------------------------------------
def test_report_has_three_pages_with_range_poem_sites_and_name(report_pdf):
    path, info, written = report_pdf
    reader = PdfReader(path)
    assert len(reader.pages) == written.pages == 3
    text = _text(path)
    assert f"From {day_text(info['from'])} to {day_text(info['to'])}" in text
    assert "POEM" in text and NAME in text
    for site in SITES:
        assert site in text
    assert "not a diagnosis" in text
    assert "Betnovate 0.1% cream" in text and "potent" in text
    assert "worse after swimming" in text and "flare after a cold" in text  # photo and day notes
    words = " ".join(text.split())
    assert "grades by your personal model: agreed with you on 9 of 12 photos (75 %), majority " \
        "guess 42 %" in words  # fmt: skip


def test_report_embeds_the_photos_and_draws_the_timeline(report_pdf):
    path, _, _ = report_pdf
    first, second, third = PdfReader(path).pages
    # first, middle and last photo of each site, then each site's "then and now" pair
    assert _images(second) + _images(third) == 2 * 3 + 2 * 2
    page_one = first.extract_text()
    for label in ("Timeline", "Severity", "Lesion area", "Flares", "Epaderm", "Peak itch"):
        assert label in page_one  # the timeline's axes: vector drawing, its labels are text
    assert float(first.mediabox.width) == pytest.approx(8.27 * 72, abs=1)  # A4


def test_gathered_summary_values(populated):
    data_dir, info = populated
    with Store.open(data_dir, readonly=True) as store:
        data = gather_report(store, check_request(info["from"], info["to"]))
    # 3+2+1+1+2+2+3 = 14 in the first four weeks, 1+1+0+0+1+1+2 = 6 after
    assert (data.poem.first, data.poem.last, data.poem.change) == (14, 6, -8)
    assert (data.poem.first_band, data.poem.last_band) == ("moderate", "mild")
    first_week = data.weeks[0]
    rows = [n for n in data.numbers if n.day - timedelta(days=n.day.weekday()) == first_week.start]
    assert first_week.itch_mean == pytest.approx(sum(r.itch or 0 for r in rows) / len(rows))
    assert [s.site for s in data.sites] == sorted(SITES)
    arm = next(s for s in data.sites if s.site == "left arm")
    # the model's area is the one compared; the correction is kept apart, as painted
    assert arm.points[1].area_fraction == pytest.approx(0.10)
    assert arm.points[1].area_kind == "model"
    assert arm.points[1].painted_area_fraction == pytest.approx(0.08, abs=0.002)
    assert arm.points[1].mask_origin == "corrected"
    assert (arm.first_area, arm.last_area) == pytest.approx((0.12, 0.06))
    assert [p.photo_id for p in (s.point for s in arm.strip)] == [
        arm.points[0].photo_id,
        arm.points[1].photo_id,
        arm.points[3].photo_id,
    ]
    for photo in arm.strip:
        assert photo.image is not None and photo.mask is not None
        assert photo.mask.shape == photo.image.shape[:2]
        assert max(photo.image.shape[:2]) <= 480
    knee = next(s for s in data.sites if s.site == "right knee crease")
    assert knee.points[0].mask_origin == "prompt"  # the painted prompt mask is drawn
    assert knee.points[0].painted_area_fraction == pytest.approx(0.05, abs=0.002)
    assert knee.first_area == pytest.approx(0.13)  # but the model's area is compared
    mask = knee.strip[0].mask
    assert mask is not None and mask.mean() == pytest.approx(0.05, abs=0.01)
    assert [m.kind for m in data.models] == ["personal"]
    assert len(data.courses) == 2 and data.flares == (info["from"] + timedelta(days=10),)


def test_strip_is_first_middle_and_last():
    points = [PhotoPoint(i, None, None, None, None, None, None) for i in range(7)]  # type: ignore[arg-type]
    assert [p.photo_id for p in strip_points(points)] == [0, 3, 6]
    assert [p.photo_id for p in strip_points(points[:2])] == [0, 1]


def test_one_site_and_letter_paper(populated, tmp_path):
    data_dir, info = populated
    out = tmp_path / "arm.pdf"
    with Store.open(data_dir, readonly=True) as store:
        request = check_request(info["from"], info["to"], sites=["Left  Arm"], paper="letter")
        write_report(gather_report(store, request), out)
    text = _text(out)
    assert "left arm" in text and "right knee crease" not in text
    assert float(PdfReader(out).pages[0].mediabox.height) == pytest.approx(11 * 72, abs=1)


def test_an_empty_range_is_one_page_saying_so(populated, tmp_path):
    data_dir, info = populated
    out = tmp_path / "empty.pdf"
    start = info["from"] - timedelta(days=400)
    with Store.open(data_dir, readonly=True) as store:
        data = gather_report(store, check_request(start, start + timedelta(days=30)))
        assert data.is_empty
        written = write_report(data, out)
    assert written.pages == 1 and len(PdfReader(out).pages) == 1
    assert "Nothing was recorded" in _text(out)


def _year_long_record(store: Store, folder: Path) -> dict:
    """A year of weekly notes and flares and 50 treatment courses (issue 22: the old layout
    printed 2 pages and no note at all)."""
    info = populate(store, folder, photos_per_site=3)
    first = date.today() - timedelta(days=364)
    for week in range(52):
        day = first + timedelta(days=7 * week)
        store.set_day_mark(day, flare=True, note=f"week {week:02d} note: " + "itchy " * 25)
    cream = store.add_treatment("Hydrocortisone 1% cream", "topical_corticosteroid", "mild")
    for n in range(50):
        start = first + timedelta(days=7 * n)
        store.add_course(cream.id, start, start + timedelta(days=3), times_a_day=n % 3 + 1)
    return {**info, "from": first, "to": date.today()}


def test_a_year_long_record_prints_every_note_course_and_flare(tmp_path):
    with Store.open(tmp_path / "store") as store:
        info = _year_long_record(store, tmp_path / "photos")
        data = gather_report(store, check_request(info["from"], info["to"]))
    assert len(data.notes) >= 52 and len(data.courses) >= 50 and len(data.flares) >= 52
    written = write_report(data, tmp_path / "year.pdf")
    text = _text(written.path)
    assert written.left_out == 0 and written.pages == len(PdfReader(written.path).pages) > 3
    for week in range(52):
        assert f"week {week:02d} note:" in text, week
    for flare in data.flares:
        assert day_text(flare) in text
    assert f"{len(data.flares)} day(s) marked as a flare" in text
    for course in data.courses:
        end = "ongoing" if course.end is None else day_text(course.end)
        assert f"{day_text(course.start)} \u2013 {end}" in text, course
    assert text.index("week 51 note") < text.index("week 00 note")  # the most recent first


def test_past_the_cap_the_most_recent_are_kept_and_the_rest_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(report_layout, "MAX_NOTES", 10)
    monkeypatch.setattr(report_layout, "MAX_COURSES", 5)
    with Store.open(tmp_path / "store") as store:
        info = _year_long_record(store, tmp_path / "photos")
        data = gather_report(store, check_request(info["from"], info["to"]))
    written = write_report(data, tmp_path / "year.pdf")
    text = _text(written.path)
    notes, courses = len(data.notes), len(data.courses)
    assert f"and {notes - 10} more notes (all are in the CSV export)" in text
    assert f"and {courses - 5} more treatment courses (all are in the CSV export)" in text
    assert written.left_out == notes - 10 + courses - 5
    assert "week 51 note" in text and "week 00 note" not in text


def test_a_long_unbroken_note_is_wrapped_whole(tmp_path):
    with Store.open(tmp_path / "store") as store:
        info = populate(store, tmp_path / "photos", photos_per_site=2)
        store.set_day_mark(info["from"] + timedelta(days=5), note="x" * 900 + "THE-END")
        data = gather_report(store, check_request(info["from"], info["to"]))
    written = write_report(data, tmp_path / "r.pdf")
    text = _text(written.path)
    assert "THE-END" in text and text.count("x") >= 900


def test_week_columns_say_the_year(tmp_path):
    with Store.open(tmp_path / "store") as store:
        last = date.today()
        first = last - timedelta(days=7 * 20)
        for n in range(0, 140, 2):
            store.set_daily(first + timedelta(days=n), itch=n % 11, sleep_loss=1)
        data = gather_report(store, check_request(first, last))
    written = write_report(data, tmp_path / "r.pdf")
    text = _text(written.path)
    table = text[text.index("average per week") : text.index("Photos: none")]
    for week in data.weeks:
        assert str(week.start.year) in table
    assert week_heading(date(2025, 12, 29)) == "29 Dec\n2025"


def test_characters_of_any_script_print_or_are_named(tmp_path):
    with Store.open(tmp_path / "store") as store:
        info = populate(store, tmp_path / "photos", photos_per_site=2)
        store.set_day_mark(info["from"] + timedelta(days=5), note="\u6e7f\u75b9 itchy \U0001f600")
        data = gather_report(store, check_request(info["from"], info["to"]))
    written = write_report(data, tmp_path / "r.pdf")
    text = _text(written.path)
    assert "itchy" in text
    assert "\u6e7f\u75b9" in text or "[cjk unified ideograph-6e7f]" in text
    assert "\U0001f600" in text or "[grinning face]" in text
    lines_after = "long note " * 80 + "LAST-WORDS"
    with Store.open(tmp_path / "store2") as store:
        info = populate(store, tmp_path / "photos2", photos_per_site=2)
        store.set_day_mark(info["from"] + timedelta(days=6), note="\u6e7f\u75b9 " + lines_after)
        store.set_day_mark(info["from"] + timedelta(days=4), note="the next note")
        data = gather_report(store, check_request(info["from"], info["to"]))
    text = _text(write_report(data, tmp_path / "r2.pdf").path)  # a fallback font, then lines
    assert "LAST-WORDS" in text and "the next note" in text and "\x00" not in text
    document = ReportDocument((8.27, 11.69))
    assert document.printable("a \U0010fffd b") == "a [U+10FFFD] b"  # in no font at all
    assert document.printable("caf\u00e9 \u2013 \u25cb") == "caf\u00e9 \u2013 \u25cb"


def test_a_cancelled_write_leaves_the_old_file(report_pdf, populated, tmp_path):
    data_dir, info = populated
    out = tmp_path / "report.pdf"
    out.write_bytes(b"the old report")
    with Store.open(data_dir, readonly=True) as store:
        data = gather_report(store, check_request(info["from"], info["to"]))
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2  # after the first page was saved

    with pytest.raises(Cancelled):
        write_report(data, out, overwrite=True, cancel=cancel)
    assert out.read_bytes() == b"the old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


@pytest.mark.parametrize(
    ("name", "paper"),
    [
        ("en_US.UTF-8", "letter"),
        ("fr_CA", "letter"),
        ("en_GB.UTF-8", "a4"),
        ("C", "a4"),
        ("de_DE@euro", "a4"),
        ("", "a4"),
    ],
)
def test_default_paper_by_locale(name, paper):
    assert default_paper(name) == paper


@pytest.mark.parametrize(
    ("from_day", "to_day", "sites", "words"),
    [
        ("2026-02-30", "2026-03-01", (), "not a date"),
        ("20260101", "2026-03-01", (), "not a date"),
        ("2026-03-02", "2026-03-01", (), "ends before it starts"),
        ("2026-01-01", "2026-03-01", ("elbow",), "no photos have the body site 'elbow'"),
    ],
)
def test_check_request_refusals(from_day, to_day, sites, words):
    with pytest.raises(ReportInputError, match=words):
        check_request(from_day, to_day, sites=sites, known_sites=SITES)


# -- the command ----------------------------------------------------------------------------------
def _run(argv: list[str]) -> int:
    """Parse and run like ``cli.main`` does, with the report command registered."""
    parser = argparse.ArgumentParser(parents=[common_options()])
    report_command.register(
        parser.add_subparsers(dest="command"), common_options(suppress_defaults=True)
    )
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"eczema-tracker: error: {exc.message}")
        return exc.code


def test_command_writes_the_report(populated, tmp_path, capsys):
    data_dir, info = populated
    out = tmp_path / "doctor.pdf"
    code = _run(
        [
            "report",
            "--data-dir",
            str(data_dir),
            "--from",
            info["from"].isoformat(),
            "--to",
            info["to"].isoformat(),
            "--site",
            "left arm",
            "--name",
            NAME,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert f"wrote {out} (2 pages, A4" in capsys.readouterr().out
    assert NAME in _text(out)


@pytest.mark.parametrize(
    "change",
    [
        {"--from": "2026-13-01"},
        {"--to": "yesterday"},
        {"--from": "2026-06-02", "--to": "2026-06-01"},
        {"--site": "left foot"},
        {"--out": "missing-folder/r.pdf"},
        {"--out": "."},
        {"--data-dir": "no-store-here"},
    ],
    ids=lambda c: " ".join(f"{k}={v}" for k, v in c.items()),
)
def test_command_refuses_bad_input_and_writes_nothing(
    populated, tmp_path, monkeypatch, capsys, change
):
    data_dir, info = populated
    monkeypatch.chdir(tmp_path)
    options = {
        "--data-dir": str(data_dir),
        "--from": info["from"].isoformat(),
        "--to": info["to"].isoformat(),
        "--out": "r.pdf",
        **change,
    }
    argv = ["report"] + [x for kv in options.items() for x in kv]
    assert _run(argv) == 2
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("eczema-tracker: error: ")
    assert list(tmp_path.iterdir()) == []


def test_the_command_reads_a_store_open_for_writing(populated, tmp_path):
    data_dir, info = populated
    day = date.today().isoformat()
    with Store.open(data_dir):  # the app has it open
        assert (
            _run(
                [
                    "report",
                    "--data-dir",
                    str(data_dir),
                    "--from",
                    day,
                    "--to",
                    day,
                    "--out",
                    str(tmp_path / "r.pdf"),
                ]
            )
            == 0
        )
    assert (tmp_path / "r.pdf").is_file()


def test_a_long_range_shows_itch_and_sleep_per_month(tmp_path):
    last = date.today()
    first = last - timedelta(days=400)
    with Store.open(tmp_path / "store") as store:
        for n in range(0, 401, 3):
            store.set_daily(first + timedelta(days=n), itch=n % 11, sleep_loss=(n // 3) % 11)
        data = gather_report(store, check_request(first, last))
    assert len(data.months) in (14, 15) and len(data.weeks) > 28
    written = write_report(data, tmp_path / "year.pdf")
    text = _text(written.path)
    assert "average per month" in text and f"{last:%b %y}" in text
    assert 1 <= written.pages <= 3


def test_an_unreadable_photo_is_a_gap_not_a_failure(tmp_path):
    with Store.open(tmp_path / "store") as store:
        info = populate(store, tmp_path / "photos", photos_per_site=2)
        first = min(store.photos("left arm"), key=lambda p: p.taken_at)
        store.photo_file(first.id).write_bytes(b"")  # emptied behind the store's back
        data = gather_report(store, check_request(info["from"], info["to"]))
    arm = next(s for s in data.sites if s.site == "left arm")
    assert arm.strip[0].image is None and "could not be read" in arm.strip[0].problem
    written = write_report(data, tmp_path / "r.pdf")
    assert "could not be read" in _text(written.path)
    # the other three photos of the strips, and three of the "then and now" pairs
    assert sum(_images(page) for page in PdfReader(written.path).pages) == 3 + 3
    pair = next(p for p in data.then_and_now if p.site == "left arm")
    assert pair.then is not None and pair.then.image is None and pair.now is not None


def test_scores_of_a_model_not_in_use_are_not_printed(tmp_path):
    with Store.open(tmp_path / "store") as store:
        info = populate(store, tmp_path / "photos", photos_per_site=2)
        photo = store.photos("left arm")[0]
        analysis = store.current_analysis(photo.id)
        assert analysis is not None
        store.record_analysis(photo.id, mask=store.load_mask(analysis.mask),
                              lesion_area_fraction=analysis.lesion_area_fraction, features=None,
                              feature_source=None, probabilities=None, score=1.0,
                              model_sources={}, k=1)  # fmt: skip
        data = gather_report(store, check_request(info["from"], info["to"]))
    points = {p.photo_id: p for s in data.sites for p in s.points}
    assert points[photo.id].score is None and points[photo.id].grade is None
    assert sum(p.score is not None for p in points.values()) == len(points) - 1
    sentence = model_sentence(data)  # the line under the site table
    assert "grades by your personal model: agreed with you on 9 of 12" in sentence


def test_grades_of_a_personal_model_kept_off_are_left_out_and_the_report_says_why(tmp_path):
    with Store.open(tmp_path / "store") as store:
        info = populate(store, tmp_path / "photos", photos_per_site=2)
        scorer = store.active_severity_model()
        model_file = tmp_path / "bad.safetensors"
        model_file.write_bytes(b"another model file")
        bad = {
            "kind": "personal",
            "cv_confusion": [[0, 0, 0, 0], [0, 1, 4, 0], [0, 3, 0, 0], [0] * 4],
            "majority_agreed": 5,
            "majority_rating": 1,
            "n_train": 8,
        }
        store.add_severity_model(model_file, bad, activate=False)  # trained, kept off
        store.activate_severity_model(None)  # and the model that scored the photos is off
        data = gather_report(store, check_request(info["from"], info["to"]))
        written = write_report(data, tmp_path / "r.pdf")
        store.activate_severity_model(scorer.id)
        with_grades = write_report(
            gather_report(store, check_request(info["from"], info["to"])), tmp_path / "g.pdf"
        )
    assert all(p.score is None for s in data.sites for p in s.points)
    assert data.models == ()
    reason = (
        "No severity grades: Your personal model matched you on 1 of 8 photos (12 %); always "
        "answering 'mild' matches 5 of 8 (62 %): kept, not used."
    )
    assert data.no_grades_reason == reason
    text = " ".join(_text(written.path).split())
    assert reason in text
    assert "Predicted severity" not in text and "severity 2." not in text
    assert "Predicted severity" in _text(with_grades.path)


def test_a_date_with_two_old_checkins_counts_once_and_the_report_says_so(tmp_path):
    """Issue 21 item 2: an old store's second POEM of a date ("First 18 … Check-ins 4")."""
    from eczema_tracker.app.report.summary import _poem_rows

    start = date(2026, 3, 2)
    with Store.open(tmp_path / "store") as store:
        store.add_checkin(start, [4, 3, 3, 3, 2, 2, 1])  # 18, then corrected to 0 the old way:
        with store._write() as conn:
            conn.execute(
                "INSERT INTO checkin (day, itchy, sleep_disturbed, bleeding, weeping, cracked, "
                "flaking, dry, created_at) VALUES (?, 0, 0, 0, 0, 0, 0, 0, 'old')",
                (start.isoformat(),),
            )
        store.add_checkin(start + timedelta(days=7), [1] * 7)
        data = gather_report(store, check_request(start, start + timedelta(days=14)))
    assert (data.poem.totals, data.poem.not_counted) == ((0, 7), 1)
    assert _poem_rows(data)[0][5] == "2 (1 older of the same date not counted)"


def _report_argv(data_dir: Path, info: dict, out: str, *more: str) -> list[str]:
    return ["report", "--data-dir", str(data_dir), "--from", info["from"].isoformat(),
            "--to", info["to"].isoformat(), "--out", out, *more]  # fmt: skip


def test_command_never_writes_into_the_store_or_over_a_file_unasked(populated, tmp_path, capsys):
    data_dir, info = populated
    database = data_dir / "store.sqlite3"
    before = database.read_bytes()
    elsewhere = tmp_path / "elsewhere.pdf"
    elsewhere.write_bytes(b"someone's file")
    link = tmp_path / "link.pdf"
    link.symlink_to(elsewhere)
    existing = tmp_path / "old.pdf"
    existing.write_bytes(b"the old report")
    cases = [
        (str(database), "inside the photo store"),
        (str(data_dir / "r.pdf"), "inside the photo store"),
        ("/dev/null", "not a regular file"),
        (str(link), "symbolic link"),
        (str(existing), "--force"),
    ]
    for out, words in cases:
        for force in ((), ("--force",)) if words != "--force" else ((),):
            assert _run(_report_argv(data_dir, info, out, *force)) == 2, out
            printed = capsys.readouterr().out.strip().splitlines()
            assert len(printed) == 1 and words in printed[0], printed
    assert database.read_bytes() == before
    assert Path("/dev/null").is_char_device() and link.is_symlink()
    assert elsewhere.read_bytes() == b"someone's file"
    assert existing.read_bytes() == b"the old report"
    assert _run(_report_argv(data_dir, info, str(existing), "--force")) == 0
    assert existing.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in data_dir.iterdir() if p.suffix == ".pdf") == []


def test_a_write_failure_is_one_line(populated, tmp_path, capsys):
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    data_dir, info = populated
    from eczema_tracker.cli import main

    assert main(_report_argv(data_dir, info, "/proc/r.pdf")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("eczema-tracker: error: Could not write /proc/r.pdf") and "\n" not in err


def test_a_dense_timeline_is_placed_as_one_picture_not_points_out_of_place(tmp_path):
    """Two years of daily numbers (730 points > DENSE_POINTS): the timeline goes in as one PNG.

    A rasterised line inside the SVG was placed by fpdf2 without its transform, on top of the
    summary tables at the top of the page.
    """
    start = date(2024, 12, 1)
    with Store.open(tmp_path / "store") as store:
        for n in range(730):
            store.set_daily(start + timedelta(days=n), itch=n % 11, sleep_loss=(n * 3) % 11)
        data = gather_report(store, check_request(start, start + timedelta(days=729)))
    assert report_layout.timeline_picture(data, 7.0, 5.0).startswith(b"\x89PNG")
    written = write_report(data, tmp_path / "dense.pdf")
    assert written.pages >= 2 and _text(written.path).count("Timeline") >= 1
    sparse = data.timeline  # a few points: still vector, its text kept as text
    with Store.open(tmp_path / "few") as store:
        store.set_daily(start, itch=3)
        few = gather_report(store, check_request(start, start + timedelta(days=30)))
    assert sparse is not None and b"<svg" in report_layout.timeline_picture(few, 7.0, 5.0)[:400]


def test_the_report_timeline_names_its_months(tmp_path):
    """Issue 25: the report's date axis (drawn as in the app) said "08 15 22 Dec 08"."""
    import re

    low, high = date(2025, 11, 5), date(2025, 12, 10)
    with Store.open(tmp_path / "store") as store:
        for day in range(0, 36, 3):
            store.set_daily(low + timedelta(days=day), itch=4, sleep_loss=2)
        data = gather_report(store, check_request(low, high, name="", paper="a4"))
    svg = report_layout.timeline_picture(data, 7.0, 3.0).decode()
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.DOTALL)
    assert texts[:6] == ["8 Nov", "2025", "15", "22", "1 Dec", "8"]


def test_the_default_range_spans_the_record_at_most_a_year():
    from eczema_tracker.app.report.request import default_range

    today = date(2026, 12, 7)
    assert default_range(None, today) == (date(2026, 9, 8), today)  # empty: the last 3 months
    assert default_range(date(2026, 10, 29), today) == (date(2026, 10, 29), today)
    assert default_range(date(2023, 1, 1), today) == (date(2025, 12, 8), today)  # a year
    assert default_range(date(2027, 1, 1), today) == (today, today)  # a camera date ahead


def test_first_recorded_day_is_the_earliest_entry_of_any_kind(tmp_path):
    with Store.open(tmp_path / "store") as store:
        assert store.first_recorded_day() is None
        store.set_daily(date(2026, 11, 3), itch=2)
        assert store.first_recorded_day() == date(2026, 11, 3)
        treatment = store.add_treatment("Cream", "emollient")
        store.add_course(treatment.id, date(2026, 10, 1))
        assert store.first_recorded_day() == date(2026, 10, 1)


def test_the_command_without_dates_reports_the_whole_recent_record(populated, tmp_path, capsys):
    data_dir, info = populated
    out = tmp_path / "whole.pdf"
    assert _run(["report", "--data-dir", str(data_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    with Store.open(data_dir, readonly=True) as store:
        first = store.first_recorded_day()
    start = max(first, date.today() - timedelta(days=364))
    assert f"{start.isoformat()} to {date.today().isoformat()}" in printed


def test_a_legend_of_many_entries_never_pushes_the_plots_off_the_timeline(populated, monkeypatch):
    """Found in review: ~14 legend rows (8 sites at the smallest height) made matplotlib raise
    'bottom cannot be >= top'."""
    data_dir, info = populated
    with Store.open(data_dir, readonly=True) as store:
        data = gather_report(store, check_request(info["from"], info["to"]))
    monkeypatch.setattr(report_layout, "LEGEND_COLUMNS", 1)  # one entry a row: many rows
    assert report_layout.timeline_picture(data, 7.0, 1.2)[:5] in (b"<?xml", b"\x89PNG")
