"""A site whose examples disagree is "not reliable yet" everywhere, and a doubtful empty mask is
never an all-clear: the one answer (``trust.site_reliability``), the timeline, the report, the
CLI and the weakest example shown again (plain pytest; synthetic photos)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.figure import Figure
from pypdf import PdfReader

from eczema_tracker.app.report.data import gather_report
from eczema_tracker.app.report.pdf import write_report
from eczema_tracker.app.report.request import check_request
from eczema_tracker.app.report.summary import unreliable_lines
from eczema_tracker.app.timeline.data import gather_timeline_data
from eczema_tracker.app.timeline.figure import draw_timeline
from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.cli import main
from eczema_tracker.core.severity_scale import (
    NO_ECZEMA_FOUND,
    NO_LESION_CHECK_PHOTO,
    shown_grade,
)
from eczema_tracker.store import Store
from tests.report_support import NAME, ellipse_mask, populate

UNSURE = "left arm"  # its two examples are painted in different places and agree 0 %
SURE = "right knee crease"


def painted_apart(store: Store, ids: list[int]) -> None:
    """Two examples of one site painted in different places (left half, right half)."""
    for n, pid in enumerate(ids):
        photo = store.photo(pid)
        mask = np.zeros((photo.height, photo.width), dtype=bool)
        half = photo.width // 2
        mask[photo.height // 4 : photo.height // 2, n * half : n * half + half // 2] = True
        store.set_prompt_mask(pid, mask)


def keep_check(store: Store, site: str, ious: list[float]) -> None:
    """Keep an agreement check of ``site``'s current examples with these IoUs."""
    ids = [r.photo_id for r in store.prompts(site)]
    n = len(ids)
    store.keep_prompt_agreement(
        site,
        trust.prompt_set_key(store, site),
        "models-test",
        photo_ids=ids,
        ious=ious,
        used=[[j for j in range(n) if j != i][: n - 1] for i in range(n)],
        k_used=n - 1,
        note="each checked with the other",
    )


def empty_result(
    store: Store, pid: int, *, familiar: bool | None = None, area: float = 0.0
) -> None:
    """The model found (almost) nothing in photo ``pid`` (or a disc of ``area``), with a
    severity score; a fresh result of the current examples."""
    photo = store.photo(pid)
    store.record_analysis(
        pid,
        mask=ellipse_mask(photo.width, photo.height, area),
        lesion_area_fraction=area,
        features=None,
        feature_source=None,
        probabilities=[0.7, 0.2, 0.1, 0.0],
        score=0.4,
        model_sources={"dino": "test"},
        k=1,
        familiar=familiar,
    )


@pytest.fixture
def record(tmp_path):
    """A store of two sites: ``UNSURE`` with two disagreeing examples (a 0 % check kept) and an
    empty result; ``SURE`` with one example and an empty result judged unlike the examples."""
    store = Store.open(tmp_path / "store")
    info = populate(store, tmp_path / "photos")
    unsure = sorted(p.id for p in store.photos(UNSURE))
    painted_apart(store, unsure[2:])
    keep_check(store, UNSURE, [0.0, 0.0])
    empty_result(store, unsure[0])
    sure = sorted(p.id for p in store.photos(SURE))
    empty_result(store, sure[1], familiar=False)
    info.update(unsure=unsure, sure=sure, data_dir=tmp_path / "store")
    yield store, info
    store.close()


def test_the_no_lesion_wording_is_decided_in_one_place():
    calm = shown_grade(lesion_area_fraction=0.0, score=0.4)
    doubtful = shown_grade(lesion_area_fraction=0.0, score=0.4, doubtful=True)
    assert calm is not None and calm.text == NO_ECZEMA_FOUND
    assert doubtful is not None and not doubtful.graded
    assert doubtful.text == NO_LESION_CHECK_PHOTO == "the model found no lesion — check the photo"


def test_a_site_whose_examples_disagree_is_not_reliable_and_says_why(record):
    store, _info = record
    unsure = trust.site_reliability(store, UNSURE)
    assert not unsure.reliable and unsure.mean_iou == 0.0
    assert unsure.reason.startswith("results not reliable yet — paint another example")
    assert "0 %" in unsure.reason and f"{100 * trust.RELIABLE_AGREEMENT:.0f} %" in unsure.reason
    assert trust.site_reliability(store, SURE).reliable  # one example: nothing to judge yet
    assert set(trust.unreliable_sites(store, [UNSURE, SURE])) == {UNSURE}
    # the summary's sentence says so too, not "Your examples agree"
    said = trust.newest_agreement(store, UNSURE).describe()
    assert said.startswith("Your examples disagree: 0 % overlap")
    assert "(0 %). Below 35 %: results not reliable yet — paint another example." in said


def test_agreeing_examples_and_a_changed_prompt_set_are_not_marked(record):
    store, info = record
    keep_check(store, UNSURE, [0.8, 0.7])  # the newest check of the same examples
    assert trust.site_reliability(store, UNSURE).reliable
    keep_check(store, UNSURE, [0.0, 0.1])
    assert not trust.site_reliability(store, UNSURE).reliable
    painted_apart(store, info["unsure"][1:3])  # another prompt set: that check is not of it
    assert trust.site_reliability(store, UNSURE).mean_iou is None


def test_the_timeline_draws_an_unreliable_sites_results_hollow(record):
    store, info = record
    empty_result(store, info["unsure"][1], area=0.05)  # graded results, fresh
    empty_result(store, info["sure"][2], area=0.05)
    data = gather_timeline_data(store)
    assert {s.site: s.unreliable for s in data.sites} == {UNSURE: True, SURE: False}
    figure = Figure()
    drawn = draw_timeline(figure, data)
    lines = {line.get_gid(): line for ax in figure.axes for line in ax.lines}
    hollow = lines["score-unreliable"]
    assert hollow.get_markerfacecolor() == "white" and len(hollow.get_xdata()) == 1
    assert lines["area-unreliable"].get_markerfacecolor() == "white"
    assert "score" in lines  # the reliable site stays filled
    labels = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert any("hollow: not reliable yet" in label and UNSURE in label for label in labels)
    assert drawn.severity is not None


def test_the_report_has_a_line_per_unreliable_site_and_no_false_all_clear(record, tmp_path):
    store, info = record
    request = check_request(info["from"], info["to"], name=NAME, paper="a4")
    data = gather_report(store, request)
    unsure, sure = (next(s for s in data.sites if s.site == name) for name in (UNSURE, SURE))
    assert unsure.unreliable and not sure.unreliable
    (line,) = unreliable_lines(data)
    assert line.startswith(f"{UNSURE}: results not reliable yet — paint another example")
    grades = {p.photo_id: p.grade for s in data.sites for p in s.points}
    assert grades[info["unsure"][0]] == NO_LESION_CHECK_PHOTO  # an unreliable site's
    assert grades[info["sure"][1]] == NO_LESION_CHECK_PHOTO  # an unfamiliar photo's
    out = write_report(data, tmp_path / "report.pdf").path
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(out).pages)
    assert f"{UNSURE}: results not reliable yet" in text
    assert "no eczema found" not in text
    # the photos of the strip carry the site's mark too, the reliable site's do not
    from eczema_tracker.app.report.pdf import _photo_caption

    marked = [_photo_caption(p, unsure.measure, unreliable=unsure.unreliable) for p in unsure.strip]
    calm = [_photo_caption(p, sure.measure, unreliable=sure.unreliable) for p in sure.strip]
    analysed = [c for c, p in zip(marked, unsure.strip, strict=True) if p.point.model_area_fraction]
    assert analysed and all(c.startswith("\u26a0 ") for c in analysed)
    assert not any(c.startswith("\u26a0") for c in calm)


def test_the_cli_says_which_sites_are_unreliable_and_never_calls_them_clear(record, capsys):
    store, info = record
    store.close()
    assert main(["photos", "--data-dir", str(info["data_dir"]), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["site"]: r["site_reliable"] for r in rows} == {UNSURE: False, SURE: True}
    assert main(["photos", "--data-dir", str(info["data_dir"]), "--site", UNSURE]) == 0
    out, err = capsys.readouterr()
    assert out and all("!" in line.split(" rating ")[1][:6] for line in out.splitlines())
    assert "no eczema found" not in out
    assert "!: results not reliable yet" in err


class CornerSegmenter:
    """Finds the top-left eighth of every photo, whatever the examples say."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []
        self.asked: list[tuple[int, list[int]]] = []

    def prepare(self, prompts):
        self.sizes = [p.image.size for p in prompts]
        return None

    def segment(self, index, others):
        self.asked.append((index, list(others)))
        w, h = self.sizes[index]
        mask = np.zeros((h, w), dtype=bool)
        mask[: h // 2, : w // 4] = True
        return mask


def test_the_weakest_example_is_shown_with_what_seggpt_found_in_it(record):
    store, info = record
    agreement = trust.newest_agreement(store, UNSURE)
    segmenter = CornerSegmenter()
    found = trust.weakest_disagreement(store, agreement, segmenter)
    assert found is not None and found.photo_id == agreement.weakest_photo_id
    index, others = segmenter.asked[0]
    assert [agreement.photo_ids[j] for j in others] == list(found.other_ids)  # as checked
    h, w = found.painted.shape
    assert found.found.shape == (h, w) and found.found[: h // 2, : w // 4].all()
    assert found.painted.any() and found.image.shape == (h, w, 3)
    assert found.iou == pytest.approx(
        (found.found & found.painted).sum() / (found.found | found.painted).sum()
    )
    said = found.describe()
    assert said.startswith("You painted ") and "SegGPT found 12.5 %" in said
    assert f"they overlap {100 * found.iou:.0f} %" in said


def test_compare_and_the_reports_pair_say_a_site_is_not_reliable(record):
    from eczema_tracker.app.compare import change_in_words, default_pair, site_photos

    store, _info = record
    unsure = site_photos(store, UNSURE)
    sure = site_photos(store, SURE)
    assert all(p.unreliable for p in unsure) and not any(p.unreliable for p in sure)
    pair = default_pair(unsure)
    assert pair is not None
    assert change_in_words(*pair).endswith(
        "(\u26a0 results not reliable yet \u2014 paint another example)"
    )
    calm = default_pair(sure)
    assert calm is not None and "not reliable" not in change_in_words(*calm)
