"""The Timeline tab: a body-site chooser over the widgets' ``TimelineView``.

The matplotlib-backed view is created the first time the tab is shown, so the window opens fast.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class TimelinePanel(QWidget):
    """Site chooser + timeline; ``photoActivated(id)`` when a point is clicked."""

    photoActivated = Signal(int)  # noqa: N815

    def __init__(self, store: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.view = None  # TimelineView, made on first show
        self.site = QComboBox()
        self.site.setToolTip("The body site whose timeline is shown")
        self.site.currentIndexChanged.connect(lambda _i: self._show_points())
        self.note = QLabel()
        self.note.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Body site:"))
        top.addWidget(self.site)
        top.addWidget(self.note, 1)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(top)
        self._layout.addStretch(1)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.ensure_view()
        self._show_points()

    def ensure_view(self):
        """Create the timeline view (imports matplotlib) if not yet done; return it."""
        if self.view is None:
            from eczema_tracker.gui.widgets.timeline import TimelineView

            self.view = TimelineView(self)
            self.view.photoActivated.connect(self.photoActivated)
            self._layout.takeAt(self._layout.count() - 1)  # the placeholder stretch
            self._layout.addWidget(self.view, 1)
        return self.view

    def current_site(self) -> str | None:
        """The site shown."""
        return self.site.currentText() or None

    def refresh(self) -> None:
        """Reload sites and points from the store."""
        current = self.site.currentText()
        sites = self.store.sites()
        self.site.blockSignals(True)
        self.site.clear()
        self.site.addItems(sites)
        if current in sites:
            self.site.setCurrentText(current)
        self.site.blockSignals(False)
        self._show_points()

    def points(self) -> list[Any]:
        """The points of the site shown."""
        site = self.current_site()
        return self.store.timeline(site) if site else []

    def _show_points(self) -> None:
        site = self.current_site()
        points = self.points()
        analysed = [p for p in points if p.lesion_area_fraction is not None]
        if not site:
            self.note.setText("Import photos to see a timeline.")
        elif not analysed:
            self.note.setText(
                "No analysed photo of this site yet: paint 2 prompt masks, then Analyse."
            )
        else:
            self.note.setText(
                f"{len(analysed)} analysed photo(s). Click a point to open its photo."
            )
        if self.view is not None and self.isVisible():
            self.view.set_points(points, site or "")
