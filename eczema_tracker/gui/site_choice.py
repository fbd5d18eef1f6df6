"""The body site the window shows, one for the library and the timeline.

:class:`CurrentSite` holds it (a site's name, or ``None`` for every site) and says when it
changes; each :class:`SiteChooser` (the library's filter, the timeline's site) shows it and
sets it, so choosing a site in either shows it in both. The window remembers it between runs
(:mod:`.window_layout`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QWidget

#: The first entry of every chooser: no one site, all of them.
ALL_SITES = "All body sites"


class CurrentSite(QObject):
    """The body site shown (``None``: all); ``changed(site)`` when it changes."""

    changed = Signal(object)  # str | None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._site: str | None = None

    def site(self) -> str | None:
        """The site shown, or ``None`` for all."""
        return self._site

    def set_site(self, site: str | None) -> None:
        """Show ``site`` (``None`` or ``""``: all) everywhere that follows this."""
        site = site or None
        if site != self._site:
            self._site = site
            self.changed.emit(site)


class SiteChooser(QComboBox):
    """A combo box of ":data:`ALL_SITES`" and the sites, showing and setting ``current``."""

    def __init__(self, current: CurrentSite, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current = current
        self.addItem(ALL_SITES)
        current.changed.connect(self._show_current)
        self.currentIndexChanged.connect(self._chosen)

    def set_sites(self, sites: Sequence[str]) -> None:
        """List ``sites``; when the current site is not among them (renamed, its photos
        deleted), every site is shown instead."""
        self.blockSignals(True)
        self.clear()
        self.addItem(ALL_SITES)
        self.addItems(list(sites))
        self.blockSignals(False)
        if self.current.site() not in sites:
            self.current.set_site(None)
        self._show_current(self.current.site())

    def _show_current(self, site: str | None) -> None:
        index = 0 if site is None else self.findText(site)
        if index >= 0:  # not listed (yet): the next set_sites shows it
            self.setCurrentIndex(index)  # its _chosen finds the site already current

    def _chosen(self, index: int) -> None:
        self.current.set_site(None if index <= 0 else self.itemText(index))
