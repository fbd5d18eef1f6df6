"""One grade and one area per photo, everywhere: the CLI's ``photos``, the photo view, the
timeline and the doctor's report all show what ``app.photo_result`` decides; the area compared
across photos (the area line, the report's first → last) is always the model's."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import matplotlib.dates as mdates
import pytest
from matplotlib.figure import Figure
from pypdf import PdfReader

from eczema_tracker.app.photo_result import photo_result
from eczema_tracker.app.report.data import gather_report
from eczema_tracker.app.report.pdf import write_report
from eczema_tracker.app.report.request import check_request
from eczema_tracker.app.timeline.figure import draw_timeline, gather_timeline_data
from eczema_tracker.cli import main
from eczema_tracker.core.severity_scale import NO_ECZEMA_FOUND
from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.widgets.photo_view import PhotoView
from eczema_tracker.store import Store
from tests.report_support import ellipse_mask, synthetic_photo

SITE = "left arm"
START = date.today() - timedelta(days=50)

#: photo index -> (painted prompt mask, model area, score, correction) of the store built below
PLAN = {
    0: (0.119, 0.09, 1.2, None),  # a prompt photo, analysed from the site's other prompt
    1: (0.06, None, None, None),  # a prompt photo never analysed: only its painted area
    2: (None, 0.0004, 1.91, None),  # below the graded minimum: "no eczema found", never 1.91
    3: (None, 0.05, 2.2, 0.08),  # graded, with the person's correction
    4: (None, 0.0, 0.3, None),  # the last photo: the model found nothing
}


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A store with one site of five photos as in :data:`PLAN`, dated 10 days apart."""
    folder = tmp_path_factory.mktemp("likearea")
    with Store.open(folder / "store") as store:
        paths = [synthetic_photo(folder / f"p{i}.jpg", 40 + i) for i in PLAN]
        ids = [int(r.photo_id) for r in store.import_paths(paths, site=SITE)]
        for i, pid in enumerate(ids):
            day = START + timedelta(days=10 * i)
            store.update_photo(pid, taken_at=datetime(day.year, day.month, day.day, 9))
        for i, (painted, *_rest) in PLAN.items():
            if painted is not None:
                photo = store.photo(ids[i])
                store.set_prompt_mask(ids[i], ellipse_mask(photo.width, photo.height, painted))
        # an imported severity model in use: its grades may be shown (a model kept off would
        # leave the report without grades, on purpose)
        model_file = folder / "imported.safetensors"
        model_file.write_bytes(b"the store only copies it")
        model_id = store.add_severity_model(model_file, {"kind": "imported"})
        for i, (_painted, area, score, corrected) in PLAN.items():
            if area is None:
                continue
            photo = store.photo(ids[i])
            analysis_id = store.record_analysis(
                ids[i],
                mask=ellipse_mask(photo.width, photo.height, area),
                lesion_area_fraction=area,
                features=None,
                feature_source=None,
                probabilities=[0.25, 0.25, 0.25, 0.25],
                score=score,
                model_sources={"dino": "test"},
                k=2,
                severity_model_id=model_id,
                prompt_photo_ids=[ids[1]] if i == 0 else [ids[0], ids[1]],
            )
            if corrected is not None:
                store.save_corrected_mask(
                    analysis_id, ellipse_mask(photo.width, photo.height, corrected)
                )
    return folder / "store", ids


def _expected(ids: list[int]) -> dict[int, tuple[str | None, float | None, str | None]]:
    """What every view must show: (area kind, area fraction, grade text) per photo."""
    out = {}
    for i, (painted, area, score, corrected) in PLAN.items():
        drawn = painted if painted is not None else corrected
        result = photo_result(
            model_area_fraction=area, score=score, painted_area_fraction=_painted_area(drawn)
        )
        out[ids[i]] = (result.area_kind, result.area_fraction, result.grade_text)
    return out


def _painted_area(fraction: float | None) -> float | None:
    """The area of the disc painted for ``fraction`` (of a 320 x 240 synthetic photo)."""
    return None if fraction is None else float(ellipse_mask(320, 240, fraction).mean())


def _cli(data_dir, capsys) -> dict[int, dict]:
    capsys.readouterr()
    assert main(["photos", "--data-dir", str(data_dir), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {row["photo_id"]: row for row in rows}


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _timeline(store: Store, ids: list[int]) -> dict[str, dict[int, float]]:
    """Per layer ("score", "area", "area-painted", "area-line"): photo id -> the value drawn."""
    drawn = draw_timeline(Figure(figsize=(8, 5)), gather_timeline_data(store, sites=[SITE]))
    by_day = {}
    for pid in ids:
        when = datetime.fromisoformat(store.photo(pid).taken_at)
        by_day[round(float(mdates.date2num(when)), 3)] = pid
    layers: dict[str, dict[int, float]] = {}
    for ax in (drawn.severity, drawn.area):
        assert ax is not None
        for line in ax.get_lines():
            gid = line.get_gid() or ""
            kind = "score" if gid.startswith("score") and gid != "score-line" else gid
            kind = "area" if gid in ("area", "area-stale", "area-unfamiliar") else kind
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True):
                if y == y:  # a NaN is a gap in a line, not a photo
                    layers.setdefault(kind, {})[by_day[round(float(x), 3)]] = float(y)
    return layers


def test_cli_gui_timeline_and_report_show_one_grade_and_area_per_photo(
    store_dir, capsys, qtbot, tmp_path
):
    data_dir, ids = store_dir
    expected = _expected(ids)
    assert expected[ids[2]][2] == NO_ECZEMA_FOUND  # the case that said "score 1.91" in the CLI

    cli = _cli(data_dir, capsys)
    with Store.open(data_dir, readonly=True) as store:
        state = LibraryState(lambda: store)
        view = PhotoView()
        qtbot.addWidget(view)
        gui = {}
        for pid in ids:
            details = state.details(pid, load_masks=False)
            view.set_details(details)
            gui[pid] = (details, view.area.text(), _plain(view.severity.text()))
        layers = _timeline(store, ids)
        report = gather_report(store, check_request(START, date.today()))
        (site,) = report.sites
        points = {p.photo_id: p for p in site.points}

    for pid, (kind, area, grade) in expected.items():
        row = cli[pid]
        assert (row["area_kind"], row["area_fraction"], row["grade"]) == (kind, area, grade)
        details, area_text, severity_text = gui[pid]
        assert details.result is not None
        assert (details.result.area_kind, details.lesion_area_fraction) == (kind, area)
        assert (None if details.grade is None else details.grade.text) == grade
        if area is not None:
            assert area_text.startswith(f"{100 * area:.1f} % ")
        if grade is not None:
            assert severity_text.startswith(grade)
        point = points[pid]
        assert (point.area_kind, point.area_fraction, point.grade) == (kind, area, grade)
        # the timeline: the model's area on the line and its squares, the grade's score
        model_area = area if kind == "model" else None
        assert layers["area"].get(pid) == pytest.approx(None if model_area is None else 100 * area)
        assert layers["area-line"].get(pid) == layers["area"].get(pid)
        score = row["score"]
        assert layers["score"].get(pid) == (None if score is None else pytest.approx(score))
        assert point.score == (None if score is None else pytest.approx(score))

    # "no eczema found": no score anywhere, the CLI's line included
    assert cli[ids[2]]["score"] is None and ids[2] not in layers["score"]
    capsys.readouterr()
    assert main(["photos", "--data-dir", str(data_dir)]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.split()[0] == str(ids[2])]
    assert NO_ECZEMA_FOUND in line and "1.91" not in line

    # the painted areas: their own marker, never on the model's line
    painted = {ids[i]: 100 * _painted_area(PLAN[i][0] or PLAN[i][3]) for i in (0, 1, 3)}
    assert layers["area-painted"] == pytest.approx(painted)
    assert not set(painted.values()) & {round(v, 1) for v in layers["area-line"].values()}


def test_report_first_to_last_compares_model_areas_only(store_dir, tmp_path):
    """The report's headline once read "11.9 % → 0.0 %": a painted prompt mask against the
    model's result. First → last is the model's area of the prompt photo (from the site's other
    prompt) against the model's area of the last photo."""
    data_dir, _ids = store_dir
    with Store.open(data_dir, readonly=True) as store:
        data = gather_report(store, check_request(START, date.today()))
        (site,) = data.sites
        assert (site.first_area, site.last_area) == pytest.approx((0.09, 0.0))
        assert site.area_change == pytest.approx(-0.09)
        written = write_report(data, tmp_path / "report.pdf")
    text = "\n".join(page.extract_text() or "" for page in PdfReader(written.path).pages)
    row = next(line for line in text.splitlines() if line.startswith(SITE))
    assert "9.0%" in row and "11.9%" not in row
    assert "painted 11.9%" in text  # the painted area is still there, named as such


def test_a_site_analysed_again_includes_its_prompt_photos_without_a_result(store_dir):
    """The model's area of a prompt photo comes from its own analysis (from the site's other
    prompts): the site's re-analysis includes the prompt photos that have none yet."""
    from eczema_tracker.app import services

    data_dir, ids = store_dir
    with Store.open(data_dir, readonly=True) as store:
        assert services.prompt_photos_without_result(store, SITE) == [ids[1]]
        assert services.prompt_photos_without_result(store, "face") == []
