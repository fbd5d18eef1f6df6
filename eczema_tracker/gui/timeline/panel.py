"""The Timeline tab: a body-site chooser over the widgets' ``TimelineView``.

The site is the window's one :class:`~eczema_tracker.gui.site_choice.CurrentSite`, shared with
the library's filter: choosing a site in either shows it in both ("All body sites": each site
its own line). The view shows the chosen site's photos and the whole record (check-ins, daily numbers,
treatment courses, flares and notes) on one date axis. The matplotlib-backed view is created
the first time the tab is shown, so the window opens fast; the data is read with
:func:`eczema_tracker.app.timeline.data.gather_timeline_data` (small queries, on the GUI thread).
:meth:`TimelinePanel.on_store_changed` takes the store session's ``changed`` signal: the panel
redraws when photos, analyses, ratings, prompts or the record changed (at once if shown, else
the next time it is shown).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.app.timeline.data import TimelineData, gather_timeline_data
from eczema_tracker.gui.site_choice import CurrentSite, SiteChooser


class TimelinePanel(QWidget):
    """Site chooser + timeline; ``photoActivated(id)`` when a photo's point is clicked."""

    photoActivated = Signal(int)  # noqa: N815
    #: two photos to compare (ids; 0: the Compare view chooses), from the view
    compareRequested = Signal(int, int)  # noqa: N815

    def __init__(
        self, store: Any, parent: QWidget | None = None, *, current_site: CurrentSite | None = None
    ) -> None:
        """``current_site``: the site shown, shared with the library (default: this panel's)."""
        super().__init__(parent)
        self.store = store  # replaced by the window after a restore
        self.view: Any = None  # TimelineView, made on first show
        self._stale = False  # the store changed while the tab was hidden
        self.current = current_site if current_site is not None else CurrentSite(self)
        self.site = SiteChooser(self.current)
        self.site.setToolTip(
            "The body site whose photos are shown above the record (the library shows the same)"
        )
        self.current.changed.connect(lambda _site: self._show_points())
        self.note = QLabel()
        self.note.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Body site:"))
        top.addWidget(self.site)
        top.addWidget(self.note, 1)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(top)
        self._layout.addStretch(1)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.ensure_view()
        if self._stale:
            self.refresh()
        else:
            self._show_points()

    def ensure_view(self) -> Any:
        """Create the timeline view (imports matplotlib) if not yet done; return it."""
        if self.view is None:
            from eczema_tracker.gui.timeline.view import TimelineView

            self.view = TimelineView(self)
            self.view.store_root = getattr(self.store, "data_dir", None)  # never saved in it
            self.view.photoActivated.connect(self.photoActivated)
            self.view.compareRequested.connect(self.compareRequested)
            self._layout.takeAt(self._layout.count() - 1)  # the placeholder stretch
            self._layout.addWidget(self.view, 1)
        return self.view

    def current_site(self) -> str | None:
        """The site shown (``None``: every site)."""
        return self.current.site()

    def on_store_changed(self, changes: StoreChanges) -> None:
        """Redraw if what changed is shown here (photos, masks, analyses, ratings, record)."""
        if not (
            changes.photos
            or changes.analyses
            or changes.ratings
            or changes.record
            or changes.prompts
            or changes.corrections
            or changes.agreements  # a site's results drawn hollow or not
        ):
            return
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def refresh(self) -> None:
        """Reload sites, points and the record from the store."""
        self._stale = False
        self.site.set_sites(self.store.sites())
        self._show_points()

    def points(self) -> list[Any]:
        """The points of the site shown (of every site: all of them)."""
        return self.store.timeline(self.current_site())

    def timeline_data(self) -> TimelineData:
        """What the view shows: the site's photos (every site's) and the whole record."""
        site = self.current_site()
        return gather_timeline_data(self.store, sites=[site] if site else None)

    def _show_points(self) -> None:
        if self.view is None or not self.isVisible():
            return
        data = self.timeline_data()
        photos = [p for s in data.sites for p in s.points]
        analysed = [p for p in photos if p.lesion_area_fraction is not None]
        record = []
        if data.poem:
            record.append(f"{len(data.poem)} check-in(s)")
        if data.courses:
            record.append(f"{len(data.courses)} treatment course(s)")
        which = "this site" if self.current_site() else "any body site"
        if not photos and not data.has_record:
            self.note.setText(
                "Import photos, or record a check-in (Record ▸ Weekly check-in…), to see a timeline."
            )
        elif photos and not analysed:
            self.note.setText(
                f"No analysed photo of {which} yet: paint 2 prompt masks, then Analyse."
                + (f" Shown: {', '.join(record)}." if record else "")
            )
        else:
            shown = ([f"{len(analysed)} analysed photo(s)"] if photos else []) + record
            self.note.setText(
                f"{', '.join(shown)}. Click a photo's point to open it; "
                "shift-click two points to compare them."
            )
        self.view.set_data(data)
