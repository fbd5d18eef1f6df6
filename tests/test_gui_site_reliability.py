"""A site whose examples disagree is loud in the window: the library's summary line, the photo
view's result line, and "Show it" showing the result that disagreed next to the painted mask
(pytest-qt, offscreen; synthetic photos, a fake segmenter)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QWidget

from eczema_tracker.app import analysis_models
from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.app.settings import Settings
from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.core.severity_scale import NO_LESION_CHECK_PHOTO
from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.trust.disagreement_dialog import DisagreementDialog, compare_weakest
from eczema_tracker.gui.trust.flow import SiteTrust, TrustFlow
from eczema_tracker.gui.trust.summary import TrustSummary
from eczema_tracker.gui.widgets.mask_colors import PROMPT_MASK_COLOR, RESULT_MASK_COLOR
from eczema_tracker.gui.widgets.photo_view import PhotoView
from eczema_tracker.ml.familiarity import PromptAgreement
from eczema_tracker.store import Store
from tests.report_support import populate
from tests.test_site_reliability import (
    SURE,
    UNSURE,
    CornerSegmenter,
    empty_result,
    keep_check,
    painted_apart,
)
from tests.tiny_models import make_tiny_dino, make_tiny_seggpt


@pytest.fixture
def record(tmp_path):
    store = Store.open(tmp_path / "store")
    populate(store, tmp_path / "photos")
    unsure = sorted(p.id for p in store.photos(UNSURE))
    painted_apart(store, unsure[2:])
    keep_check(store, UNSURE, [0.0, 0.0])
    empty_result(store, unsure[0])
    yield store, unsure
    store.close()


def test_the_summary_line_of_a_zero_agreement_site_is_loud(qtbot, record):
    store, _ids = record
    summary = TrustSummary()
    qtbot.addWidget(summary)
    checked = trust.newest_agreement(store, UNSURE)
    agreeing = PromptAgreement(
        ious=(0.9, 0.8), keys=("1", "2"), used=((1,), (0,)), k_used=1, note=""
    )
    fine = trust.SiteAgreement(SURE, (1, 2), ("", ""), agreeing)
    summary.show_sites([SiteTrust(UNSURE, 2, 2, checked), SiteTrust(SURE, 2, 2, fine)])
    line = summary.site_line(UNSURE)
    assert "agree 0\u00a0%" in line and "⚠" in line  # a mark and words, not colour alone
    assert "results not reliable yet — paint another example" in line
    label = summary.details_button(UNSURE).parentWidget().line
    assert "color:#c62828" in label.text().replace(" ", "")  # and the colour
    assert "results not reliable yet" in label.accessibleName()
    details = summary.site_text(UNSURE)
    assert "Your examples disagree: 0 % overlap" in details
    assert f"Below 35 %: {trust.UNRELIABLE_TEXT}." in details
    calm = summary.site_line(SURE)
    assert "agree 85\u00a0%" in calm and "⚠" not in calm and "not reliable" not in calm


def test_the_photo_view_says_a_site_is_unreliable_and_never_no_eczema(qtbot, record):
    store, ids = record
    view = PhotoView()
    qtbot.addWidget(view)
    details = LibraryState(lambda: store).details(ids[0], load_masks=False)
    assert details.site_unreliable and details.doubtful
    view.set_details(details)
    severity = view.severity.text()
    assert NO_LESION_CHECK_PHOTO in severity and "no eczema found" not in severity
    assert "⚠" in severity and "results not reliable yet — paint another example" in severity
    assert not view.unreliable_note.isHidden()
    assert "results not reliable yet — paint another example" in view.unreliable_note.text()
    assert "0 %" in view.unreliable_note.text()
    # a photo of a site with nothing against it stays calm
    other = sorted(p.id for p in store.photos(SURE))[1]
    view.set_details(LibraryState(lambda: store).details(other, load_masks=False))
    assert view.unreliable_note.isHidden() and "not reliable" not in view.severity.text()


def _colour_count(label, color: QColor) -> int:
    image = label.pixmap().toImage()
    pixels = np.array(
        [
            [image.pixelColor(x, y).rgb() & 0xFFFFFF for x in range(0, image.width(), 2)]
            for y in range(0, image.height(), 2)
        ]
    )
    return int((pixels == (color.rgb() & 0xFFFFFF)).sum())


def test_show_it_shows_what_seggpt_found_next_to_the_painted_mask(qtbot, record):
    store, _ids = record
    host = QWidget()
    qtbot.addWidget(host)
    session = StoreSession(store, host)
    agreement = trust.newest_agreement(store, UNSURE)
    segmenter = CornerSegmenter()
    shown: list[DisagreementDialog] = []
    compare_weakest(
        host,
        session,
        analysis_models.PipelineCache(),
        Settings(),
        agreement,
        segmenter_for=lambda *_args: contextlib.nullcontext(segmenter),
        on_shown=shown.append,
    )
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)
    dialog = shown[0]
    qtbot.addWidget(dialog)
    found = dialog.found
    assert found.photo_id == agreement.weakest_photo_id
    h, w = found.found.shape
    assert found.found[: h // 2, : w // 4].all() and not found.found[h // 2 :, :].any()
    assert found.painted.any() and not (found.painted == found.found).all()
    # both outlined, each in its own colour, side by side; the overlap in words
    assert _colour_count(dialog.painted_picture, PROMPT_MASK_COLOR) > 0
    assert _colour_count(dialog.found_picture, RESULT_MASK_COLOR) > 0
    assert _colour_count(dialog.painted_picture, RESULT_MASK_COLOR) == 0
    said = dialog.overlap.text()
    assert "You painted" in said and "SegGPT found 12.5 %" in said and "they overlap" in said


def test_a_finished_check_tells_the_views_that_read_the_sites_trust(qtbot, record, tmp_path):
    store, _ids = record
    store.forget_prompt_agreements()
    settings = Settings(
        dino_source=str(make_tiny_dino(tmp_path / "dino")),
        seggpt_source=str(make_tiny_seggpt(tmp_path / "seggpt")),
        device="cpu",
        k=2,
    )

    def disagreeing(store, site, pipelines, choice, *, progress=None, cancel=None):
        key = trust.prompt_set_key(store, site)
        found = trust.prompt_agreement(store, site, CornerSegmenter(), k=choice.k)
        trust.keep_agreement(store, found, key, trust.model_key(choice))
        return found

    host = QWidget()
    qtbot.addWidget(host)
    session = StoreSession(store, host)
    told: list[StoreChanges] = []
    session.changed.connect(told.append)
    flow = TrustFlow(
        session, analysis_models.PipelineCache(), settings, parent=host, agreement=disagreeing
    )
    qtbot.waitUntil(lambda: not flow.busy, timeout=20000)
    assert any(c.agreements and c.sites == {UNSURE} for c in told)
    assert not trust.site_reliability(store, UNSURE).reliable  # what those views now read


def test_open_this_photo_opens_the_weakest_example_and_closes_the_dialog(qtbot):
    image = np.zeros((40, 60, 3), dtype=np.uint8)
    painted = np.zeros((40, 60), dtype=bool)
    painted[5:20, 5:30] = True
    found = trust.Disagreement(
        site=UNSURE,
        photo_id=7,
        taken_at="2025-03-01",
        other_ids=(3, 4),
        image=image,
        painted=painted,
        found=np.roll(painted, 20, axis=1),
    )
    opened: list[int] = []
    dialog = DisagreementDialog(found, open_photo=opened.append)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert opened == [7]
    assert dialog.result() == QDialog.DialogCode.Accepted
