"""The photo view's facts are never cut off: when a shown photo's texts grow (a longer area
sentence, a site marked not reliable) the side panel grows with them and scrolls."""

from __future__ import annotations

from eczema_tracker.app.photo_result import photo_result
from eczema_tracker.app.trust.agreement import SiteReliability
from eczema_tracker.gui.widgets.photo_view import PhotoDetails, PhotoView


def _details(photo_id: int, *, long: bool) -> PhotoDetails:
    result = photo_result(
        model_area_fraction=0.241,
        model_share_of_skin=0.382 if long else None,
        painted_area_fraction=0.04 if long else None,
        painted_share_of_skin=0.05 if long else None,
        is_prompt=long,
    )
    return PhotoDetails(
        photo_id=photo_id,
        site="the back of the left knee" if long else "arm",
        is_prompt=long,
        mask_origin="prompt" if long else "analysis",
        analysed=True,
        result=result,
        lesion_area_fraction=result.area_fraction,
        site_reliability=SiteReliability("face", 0.21 if long else 0.9),
        note="itchy after swimming, the new cream since Monday" if long else "",
    )


def _cut_off(view: PhotoView) -> list[str]:
    return [
        f"{name}: {label.height()} px of {label.heightForWidth(label.width())}"
        for name in ("mask_state", "area", "severity", "unreliable_note", "note")
        if (label := getattr(view, name)).isVisible()
        and label.height() < label.heightForWidth(label.width())
    ]


def test_growing_texts_are_never_cut_off(qtbot):
    view = PhotoView()
    qtbot.addWidget(view)
    view.resize(930, 470)
    view.show()
    qtbot.waitExposed(view)
    for photo_id, long in ((1, False), (2, True), (3, False), (4, True), (5, True)):
        view.set_details(_details(photo_id, long=long))
        qtbot.waitUntil(lambda: _cut_off(view) == [], timeout=3000)
