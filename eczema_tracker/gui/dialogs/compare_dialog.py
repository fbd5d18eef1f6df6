"""Compare two dates: a body site's two photos side by side, at the same zoom, with the change
between them in words, exported to PNG.

Each side shows its photo with the outline of its shown mask, its date, area and grade; under
both, the change in words (:func:`eczema_tracker.app.compare.change_in_words`). The wheel, the
``+``/``-`` keys and the buttons zoom both photos by the same factor of their fitted size;
dragging or the arrow keys (on a focused photo) pan both alike; ``0`` fits them
again. The site and the two photos are chosen in combo boxes (by default the site's first and
latest analysed photo). Export PNG… (Ctrl+S) saves what is shown; an existing file is replaced
only when it is a comparison this app wrote (any other file is refused, never overwritten).
Escape closes.

Photos are decoded off the GUI thread through the store session's reads. Opened from the
timeline (shift-click two points, or its Compare… button) and from the photo view (Photo ▸
Compare with another date…, key C) through :func:`open_compare`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRectF, QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPixmap, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollBar,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app.compare import (
    COMPARE_DECODE_SIDE,
    PNG_SOFTWARE,
    PNG_SOFTWARE_KEY,
    ComparePhoto,
    change_in_words,
    default_pair,
    in_time_order,
    is_own_png,
    load_shown_photo,
    outlined,
    pair_for,
    site_photos,
)
from eczema_tracker.core.output_files import OutputFileError, check_output_target, writing_output
from eczema_tracker.gui.formatting import format_day
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.widgets.image_overlay import pil_to_qimage
from eczema_tracker.gui.widgets.mask_colors import PROMPT_MASK_COLOR, RESULT_MASK_COLOR

ZOOM_STEP = 1.25
MAX_ZOOM = 16.0


def _rgb(color: QColor) -> tuple[int, int, int]:
    return color.red(), color.green(), color.blue()


def prepared_image(store: Any, photo_id: int) -> QImage | str:
    """The photo reduced for the screen with its mask's outline drawn, or why it could not be
    read (worker thread: decoding; a QImage may be made on any thread)."""
    from PIL import Image

    loaded = load_shown_photo(store, photo_id, COMPARE_DECODE_SIDE)
    if loaded.image is None:
        return loaded.problem
    # the person's prompt mask in its blue, a result (or its correction) in red, as elsewhere
    color = PROMPT_MASK_COLOR if loaded.mask_origin == "prompt" else RESULT_MASK_COLOR
    pixels = outlined(loaded.image, loaded.mask, _rgb(color))
    return pil_to_qimage(Image.fromarray(np.ascontiguousarray(pixels)))


def png_target(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute, with ``.png`` added when it has another ending."""
    target = Path(os.path.abspath(Path(path).expanduser()))
    return target if target.suffix.lower() == ".png" else target.with_name(target.name + ".png")


class ComparedPhotoView(QGraphicsView):
    """One side: a photo shown at ``zoom`` times the size that fits the view."""

    wheelZoomed = Signal(float)  # noqa: N815 - the factor the wheel asks for

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self._text = self.scene().addText("")
        self.zoom = 1.0
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        # panned by dragging or the arrow keys: no scroll bars in the picture (or the PNG)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 160)
        self.setFrameShape(QFrame.Shape.StyledPanel)

    def has_photo(self) -> bool:
        return not self._item.pixmap().isNull()

    def set_photo(self, image: QImage | None, text: str = "") -> None:
        """Show ``image`` (None: ``text`` instead, e.g. "Reading the photo…")."""
        self._item.setPixmap(QPixmap() if image is None else QPixmap.fromImage(image))
        self._text.setPlainText("" if image is not None else text)
        rect = self._item.boundingRect() if image is not None else self._text.boundingRect()
        self.scene().setSceneRect(rect)
        self.apply_zoom()

    def fit_scale(self) -> float:
        """The scale at which the whole photo fits the view."""
        rect = self._item.boundingRect()
        if rect.isEmpty():
            return 1.0
        room = self.viewport().size()
        return min(room.width() / rect.width(), room.height() / rect.height())

    def apply_zoom(self, zoom: float | None = None) -> None:
        """Show the photo at ``zoom`` times its fitted size (None: the zoom it has)."""
        if zoom is not None:
            self.zoom = zoom
        scale = self.fit_scale() * self.zoom if self.has_photo() else 1.0
        self.resetTransform()
        self.scale(scale, scale)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.apply_zoom()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.wheelZoomed.emit(ZOOM_STEP**steps)
        event.accept()


class _ScrollLink(QObject):
    """Keeps two scroll bars at the same share of their range (the same place on both photos)."""

    def __init__(self, a: QScrollBar, b: QScrollBar, parent: QObject) -> None:
        super().__init__(parent)
        self._busy = False
        a.valueChanged.connect(lambda _v: self._follow(a, b))
        b.valueChanged.connect(lambda _v: self._follow(b, a))
        a.rangeChanged.connect(lambda _lo, _hi: self._follow(b, a))
        b.rangeChanged.connect(lambda _lo, _hi: self._follow(a, b))

    def _follow(self, source: QScrollBar, target: QScrollBar) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            span = source.maximum() - source.minimum()
            share = 0.5 if span <= 0 else (source.value() - source.minimum()) / span
            target.setValue(round(target.minimum() + share * (target.maximum() - target.minimum())))
        finally:
            self._busy = False


class CompareDialog(QDialog):
    """Two photos of a body site side by side, with the change in words.

    ``session``: the window's store session (quick reads on the GUI thread, decoding through
    ``session.read``). ``pair``: the two photo ids to show first (None: the site's default).
    """

    #: both photos are shown (or could not be read)
    photosShown = Signal()  # noqa: N815

    def __init__(
        self,
        session: Any,
        site: str,
        pair: tuple[int, int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare two dates")
        self.setObjectName("compare-dialog")
        self.session = session
        self.photos: list[ComparePhoto] = []
        self.last_export: Path | None = None
        self._pending = {0: 0, 1: 0}  # the read asked last per side (a newer one wins)
        self._shown: dict[int, int | None] = {0: None, 1: None}
        self._reading = {0: False, 1: False}

        self.site_choice = QComboBox()
        self.site_choice.addItems(session.store.sites())
        self.then_choice, self.now_choice = QComboBox(), QComboBox()
        self.then_choice.setAccessibleName("Earlier photo")
        self.now_choice.setAccessibleName("Later photo")
        top = QHBoxLayout()
        for label, widget in (
            ("Body &site:", self.site_choice),
            ("&Then:", self.then_choice),
            ("&Now:", self.now_choice),
        ):
            text = QLabel(label)
            text.setBuddy(widget)
            top.addWidget(text)
            top.addWidget(widget, 1 if widget is not self.site_choice else 0)

        self.views = (ComparedPhotoView(), ComparedPhotoView())
        self.captions = (QLabel(), QLabel())
        self.change = QLabel()
        self.change.setObjectName("compare-change")
        self.change.setWordWrap(True)
        self.change.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.change.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.change.setFont(font)
        #: what Export PNG saves: both photos, their captions and the change in words
        self.comparison = QWidget()
        self.comparison.setAutoFillBackground(True)
        grid = QGridLayout(self.comparison)
        for column, (view, caption) in enumerate(zip(self.views, self.captions, strict=True)):
            caption.setWordWrap(True)
            grid.addWidget(view, 0, column)
            grid.addWidget(caption, 1, column)
            view.wheelZoomed.connect(self.zoom_by)
        grid.addWidget(self.change, 2, 0, 1, 2)
        grid.setRowStretch(0, 1)
        for axis in ("horizontalScrollBar", "verticalScrollBar"):
            _ScrollLink(getattr(self.views[0], axis)(), getattr(self.views[1], axis)(), self)

        self.zoom_in_button = QPushButton("Zoom &in (+)")
        self.zoom_out_button = QPushButton("Zoom &out (−)")
        self.fit_button = QPushButton("&Fit (0)")
        self.export_button = QPushButton("&Export PNG…")
        self.export_button.setToolTip("Save both photos and the change in words as a PNG image")
        self.close_button = QPushButton("Close")
        self.zoom_in_button.clicked.connect(lambda: self.zoom_by(ZOOM_STEP))
        self.zoom_out_button.clicked.connect(lambda: self.zoom_by(1 / ZOOM_STEP))
        self.fit_button.clicked.connect(lambda: self.set_zoom(1.0))
        self.export_button.clicked.connect(self.export_with_dialog)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (self.zoom_in_button, self.zoom_out_button, self.fit_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        for keys, slot in (
            (("+", "="), lambda: self.zoom_by(ZOOM_STEP)),
            (("-",), lambda: self.zoom_by(1 / ZOOM_STEP)),
            (("0",), lambda: self.set_zoom(1.0)),
            ((QKeySequence.StandardKey.Save,), self.export_with_dialog),
        ):
            for key in keys:
                QShortcut(QKeySequence(key), self).activated.connect(slot)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.comparison, 1)
        layout.addLayout(buttons)
        self.resize(1200, 700)
        keep_on_screen(self)

        self.site_choice.currentTextChanged.connect(lambda s: self.show_site(s))
        self.then_choice.currentIndexChanged.connect(lambda _i: self._chosen(0))
        self.now_choice.currentIndexChanged.connect(lambda _i: self._chosen(1))
        self.show_site(site, pair)
        changed = getattr(session, "changed", None)
        if changed is not None:
            changed.connect(self._store_changed)

    def _store_changed(self, changes: Any) -> None:
        """Photos, masks or results changed: show the same two photos anew (a photo that went
        to the bin gives way to the site's default)."""
        if not (changes.photos or changes.analyses or changes.prompts or changes.corrections):
            return
        pair = self.chosen_pair()
        self._shown = {0: None, 1: None}  # a mask may have changed: read both again
        sites = self.session.store.sites()
        self.site_choice.blockSignals(True)
        current = self.site_choice.currentText()
        self.site_choice.clear()
        self.site_choice.addItems(sites)
        self.site_choice.blockSignals(False)
        if current in sites:
            self.show_site(current, None if pair is None else (pair[0].photo_id, pair[1].photo_id))
        else:  # its last photo went to the bin, or was moved
            self.show_site(sites[0] if sites else "")

    def sizeHint(self) -> QSize:  # noqa: D102, N802
        return QSize(1200, 700)

    # -- choosing ------------------------------------------------------------------------------
    def show_site(self, site: str, pair: tuple[int, int] | None = None) -> None:
        """Show ``site``'s photos, ``pair`` (ids) chosen, else its first and latest analysed."""
        if self.site_choice.currentText() != site:
            self.site_choice.blockSignals(True)
            self.site_choice.setCurrentText(site)
            self.site_choice.blockSignals(False)
        self.photos = site_photos(self.session.store, site)
        by_id = {p.photo_id: p for p in self.photos}
        chosen = None
        if pair is not None and pair[0] in by_id and pair[1] in by_id:
            chosen = in_time_order(by_id[pair[0]], by_id[pair[1]])
        chosen = chosen or default_pair(self.photos)
        if chosen is None and len(self.photos) >= 2:
            chosen = (self.photos[0], self.photos[-1])
        for choice in (self.then_choice, self.now_choice):
            choice.blockSignals(True)
            choice.clear()
            for photo in self.photos:
                area = "" if photo.analysed else "  (not analysed)"
                choice.addItem(f"{format_day(photo.taken)}{area}", photo.photo_id)
            choice.blockSignals(False)
        if chosen is None:
            for view in self.views:
                view.set_photo(None, "")
            for caption in self.captions:
                caption.setText("")
            self.change.setText(
                f"{site} has fewer than two photos: import another photo of it to compare."
            )
            return
        self.then_choice.setCurrentIndex(self.then_choice.findData(chosen[0].photo_id))
        self.now_choice.setCurrentIndex(self.now_choice.findData(chosen[1].photo_id))
        self._chosen(0)
        self._chosen(1)

    def chosen_pair(self) -> tuple[ComparePhoto, ComparePhoto] | None:
        """The two photos chosen (then, now)."""
        by_id = {p.photo_id: p for p in self.photos}
        then, now = (
            by_id.get(self.then_choice.currentData()),
            by_id.get(self.now_choice.currentData()),
        )
        return None if then is None or now is None else (then, now)

    def _chosen(self, side: int) -> None:
        choice = (self.then_choice, self.now_choice)[side]
        photo_id = choice.currentData()
        pair = self.chosen_pair()
        if photo_id is None or pair is None:
            return
        photo = pair[side]
        when = "Then" if photo is in_time_order(*pair)[0] else "Now"
        self.captions[side].setText(
            f"<b>{when}:</b> {photo.caption()}"
            + (f"<br>{photo.grade_text}" if photo.grade_label is not None else "")
        )
        self.change.setText(change_in_words(*pair))
        if self._shown[side] == photo_id:
            return
        self._pending[side] += 1
        token = self._pending[side]
        self.views[side].set_photo(None, "Reading the photo…")
        self._reading[side] = True
        self.session.read(
            lambda store: prepared_image(store, photo_id),
            lambda image: self._photo_read(side, token, photo_id, image),
            on_failure=lambda message: self._photo_read(side, token, photo_id, message),
        )

    def _photo_read(self, side: int, token: int, photo_id: int, image: QImage | str) -> None:
        if token != self._pending[side]:
            return  # another photo was chosen meanwhile
        self._reading[side] = False
        self._shown[side] = photo_id if isinstance(image, QImage) else None
        if isinstance(image, QImage):
            self.views[side].set_photo(image)
        else:
            self.views[side].set_photo(None, image)
        if not any(self._reading.values()):
            self.photosShown.emit()

    def photos_ready(self) -> bool:
        """Whether both photos are shown."""
        return all(view.has_photo() for view in self.views)

    # -- zoom ----------------------------------------------------------------------------------
    def zoom(self) -> float:
        """The zoom of both photos (1: fitted)."""
        return self.views[0].zoom

    def set_zoom(self, zoom: float) -> None:
        """Show both photos at ``zoom`` times their fitted size (1 to :data:`MAX_ZOOM`)."""
        zoom = min(MAX_ZOOM, max(1.0, zoom))
        for view in self.views:
            view.apply_zoom(zoom)

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom() * factor)

    # -- export --------------------------------------------------------------------------------
    def picture(self) -> QImage:
        """What Export PNG saves: the photos as shown, their captions and the change."""
        image = self.comparison.grab().toImage()
        image.setText(PNG_SOFTWARE_KEY, PNG_SOFTWARE)
        return image

    def export_png(self, path: str | os.PathLike[str]) -> Path:
        """Save :meth:`picture` to ``path`` (``.png`` added when missing) atomically.

        An existing file is replaced only when it is a comparison this app wrote; anything else
        (and a target inside the store, a folder, a link) is refused with an
        :class:`~eczema_tracker.core.output_files.OutputFileError`."""
        target = png_target(path)
        if target.is_file() and not target.is_symlink() and not is_own_png(target):
            raise OutputFileError(
                f"{target.name} was not made by Eczema Tracker, so it is left as it is; "
                "choose another name."
            )
        store_root = getattr(self.session.store, "data_dir", None)
        target = check_output_target(target, store_root=store_root, overwrite=True)
        picture = self.picture()
        with writing_output(target) as temp:
            # PySide6 takes the format as str at run time (bytes raise); its QImage stub says bytes.
            if not picture.save(str(temp), "PNG"):  # type: ignore[call-overload]
                raise OSError(f"could not write the image to {temp}")
        return target

    def ask_export_path(self, suggested: str) -> str | None:
        """Where to save the PNG (None: cancelled)."""
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.PicturesLocation
        ) or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the comparison",
            str(Path(folder) / suggested),
            "PNG image (*.png)",
            # asked here instead: only a comparison the app made may be replaced at all
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        return path or None

    def ask_replace(self, path: Path) -> bool:
        """Whether to replace ``path``, a comparison this app saved earlier."""
        answer = QMessageBox.question(
            self,
            "Replace the comparison?",
            f"{path.name} is a comparison saved earlier. Replace it with this one?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def show_problem(self, text: str) -> None:
        """Tell why the export failed (tests replace this)."""
        QMessageBox.warning(self, "Comparison not saved", text)

    def export_with_dialog(self) -> Path | None:
        """Ask for a file name and save the PNG there; a refusal or failure is shown."""
        pair = self.chosen_pair()
        if pair is None:
            return None
        then, now = pair
        suggested = f"eczema-{then.site}-{then.taken:%Y-%m-%d}-vs-{now.taken:%Y-%m-%d}.png"
        path = self.ask_export_path(suggested.replace(" ", "-").replace(os.sep, "-"))
        if not path:
            return None
        target = png_target(path)
        if target.is_file() and not target.is_symlink() and is_own_png(target):
            if not self.ask_replace(target):
                return None
        try:
            saved = self.export_png(target)
        except OutputFileError as exc:
            self.show_problem(exc.message)
            return None
        except OSError as exc:
            self.show_problem(f"The comparison could not be saved: {exc}")
            return None
        self.last_export = saved
        self.change.setToolTip(f"Saved to {saved}")
        return saved

    def viewport_rect(self, side: int) -> QRectF:
        """The part of the photo (scene coordinates) shown on ``side``."""
        view = self.views[side]
        return view.mapToScene(view.viewport().rect()).boundingRect()


def open_compare(
    window: Any,
    first: int = 0,
    second: int = 0,
    *,
    tell: Callable[[str], None] | None = None,
) -> CompareDialog | None:
    """Open the Compare view of ``window`` (its ``session``) for photos ``first`` and
    ``second`` (ids; 0: chosen). Only ``first``: it and its site's first analysed photo (or,
    when it is that photo, the latest). Neither: the shown site's (or first site's) first and
    latest analysed photo. One Compare view per window: an open one shows the new pair."""
    store = window.session.store
    site = None
    if first:
        site = store.photo(first).site
    elif hasattr(window, "current_site_filter"):
        site = window.current_site_filter()
    sites = store.sites()
    site = site or (sites[0] if sites else None)
    if site is None:
        if tell is not None:
            tell("There are no photos to compare yet: import some first.")
        return None
    pair: tuple[int, int] | None = None
    if first and second and store.photo(second).site != site:
        # two sites' photos are never compared (their areas are of different skin): say so
        if tell is not None:
            tell(
                f"Those photos are of two body sites ('{site}' and "
                f"'{store.photo(second).site}'): Compare shows two dates of one site. "
                f"Showing '{site}'."
            )
        found = pair_for(site_photos(store, site), first)
        pair = None if found is None else (found[0].photo_id, found[1].photo_id)
    elif first and second:
        pair = (first, second)
    elif first:
        found = pair_for(site_photos(store, site), first)
        pair = None if found is None else (found[0].photo_id, found[1].photo_id)
    dialog = window.findChild(CompareDialog, "compare-dialog")
    if dialog is None:
        dialog = CompareDialog(window.session, site, pair, parent=window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    else:
        dialog.show_site(site, pair)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
