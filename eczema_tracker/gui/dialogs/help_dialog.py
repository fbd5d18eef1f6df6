"""Help: how it works (what the mask, area and severity mean and what they don't), every
keyboard shortcut, and the library's badge legend.

``show_help(parent, page)`` opens one non-modal window (reused while it is open) on a page.
The window's own shortcuts are read from its actions, so new ones appear by themselves.
"""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from eczema_tracker.core.severity_scale import MIN_GRADED_AREA_FRACTION
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.widgets.result_badges import BADGES

PAGES = ("how-it-works", "shortcuts", "legend")
PAGE_TITLES = {
    "how-it-works": "How it works",
    "shortcuts": "Keyboard shortcuts",
    "legend": "Legend",
}

HOW_IT_WORKS = f"""
<h3>What the app measures</h3>
<p>The app is a <b>measurement aid</b> for keeping track of your own eczema over time. It is
<b>not a diagnosis</b> and does not replace a doctor or nurse: it cannot tell eczema from other
rashes, infections or moles, and it cannot say which treatment you need.</p>
<h3>The mask</h3>
<p>The coloured overlay marks the skin the app takes for eczema. It learns what to look for from
the <b>prompt masks</b> you paint on a few photos of the same body site, and compares each new
photo with the prompt photos most like it. When the mask is wrong, correct it with
<i>Correct the result mask…</i>: a mask you painted is yours and is kept as the truth for that
photo.</p>
<h3>The area</h3>
<p>"12.0 % of the photo" is the share of the photo's pixels inside the mask. It depends on how
close and at what angle the photo was taken: compare photos taken the same way (same distance,
light and framing). It is not a size in square centimetres. Below
{100 * MIN_GRADED_AREA_FRACTION:.1f} % the app says "no eczema found in this photo" and gives no
grade; when the photo looks unlike your examples, or the site's examples disagree (its results
are "not reliable yet"), it says "the model found no lesion — check the photo" instead.</p>
<h3>The severity</h3>
<p>Severity is given on four levels: none (0), mild (1), moderate (2), severe (3). It comes from a
small model trained on <b>your own ratings</b> (rate photos with the keys 0–3); until you have
trained one there is no severity. The score is the model's expected level between 0 and 3, and
the level shown is the band the score falls in (below 0.5 none, below 1.5 mild, below 2.5
moderate, else severe), so level and score always agree. It says how much a photo looks like the
photos you rated at each level; it is not a clinical score such as EASI or SCORAD.</p>
<h3>Out of date</h3>
<p>When the prompt masks of a site change, earlier results of that site are marked out of date;
analyse them again to bring them up to date.</p>
<h3>Your photos</h3>
<p>Everything stays on this computer. Only the two model files are downloaded, once.</p>
"""

#: Shortcuts that are not window actions (the painter, the library, the timeline).
OTHER_SHORTCUTS: dict[str, list[tuple[str, str]]] = {
    "Painting a mask": [
        ("B", "brush"),
        ("E", "eraser"),
        ("F", "fill the inside of an outline"),
        ("[ and ]", "smaller or larger brush (or Shift+wheel)"),
        ("Ctrl+Z", "undo the last stroke"),
        ("Ctrl+Shift+Z or Ctrl+Y", "redo"),
        ("+ and −", "zoom in and out (or Ctrl+wheel)"),
        ("0", "show the whole photo"),
        ("Space+drag or middle button", "move the photo"),
        ("Ctrl+S", "save the mask"),
        ("Esc", "close (asks first if there are unsaved changes)"),
    ],
    "Library": [
        ("Arrow keys", "move between photos"),
        ("Shift+click, Ctrl+click", "select several photos"),
        ("Ctrl+A", "select every photo shown"),
        ("Ctrl+wheel", "larger or smaller thumbnails (also the slider under the library)"),
    ],
    "Timeline": [
        ("Wheel", "zoom the dates in or out around the mouse"),
        ("Drag", "move along the dates"),
        ("Double-click", "show the chosen range again"),
        ("Click a point", "open its photo"),
        ("Shift+click two points", "compare their photos side by side"),
    ],
    "Comparing two dates": [
        ("+ and −", "zoom both photos in and out (or the wheel)"),
        ("0", "fit both photos again"),
        ("Drag or arrow keys", "move both photos alike"),
        ("Ctrl+S", "export the comparison as a PNG image"),
        ("Esc", "close"),
    ],
}


def window_shortcuts(window: QWidget | None) -> list[tuple[str, str]]:
    """(keys, what it does) of every action of ``window`` that has a shortcut."""
    if window is None:
        return []
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = [
            s.toString(QKeySequence.SequenceFormat.NativeText)
            for s in action.shortcuts()
            if not s.isEmpty()
        ]
        if not keys:
            continue
        what = action.text().replace("&", "").rstrip("…").rstrip(".").strip()
        seen.setdefault(" or ".join(keys), what[:1].lower() + what[1:])
    return sorted(seen.items(), key=lambda kv: (len(kv[0]) > 1, kv[0]))


def shortcuts_html(window: QWidget | None) -> str:
    """The shortcuts page: the window's actions, then the painter, library and timeline."""
    sections = []
    own = window_shortcuts(window)
    if own:
        sections.append(("Main window", own))
    sections += list(OTHER_SHORTCUTS.items())
    parts = []
    for title, rows in sections:
        parts.append(f"<h3>{escape(title)}</h3><table cellspacing='0' cellpadding='3'>")
        parts += [
            f"<tr><td><b>{escape(keys)}</b></td><td>&nbsp;&nbsp;{escape(what)}</td></tr>"
            for keys, what in rows
        ]
        parts.append("</table>")
    return "".join(parts)


def legend_html() -> str:
    """The library badges and what each means."""
    rows = [
        f"<tr><td><span style='background:{color}; color:white'>&nbsp;<b>{escape(letter)}</b>"
        f"&nbsp;</span></td><td>&nbsp;&nbsp;{escape(meaning)}</td></tr>"
        for letter, color, meaning in BADGES.values()
    ]
    return (
        "<h3>Badges on the library's thumbnails</h3><table cellpadding='4'>"
        + "".join(rows)
        + "</table><p>Hover a thumbnail for its date, site and state. Photos are grouped by "
        "month, newest first; the month's name starts each group.</p>"
        "<h3>Timeline</h3><p>Blue dots: the severity score of each analysed photo (open circles: "
        "out of date; bold open circles: unlike your example photos, check the mask). Purple diamonds: your own ratings. Green squares and the dashed line: "
        "the eczema area, on the right-hand scale. The coloured bands are the four levels.</p>"
    )


class HelpDialog(QDialog):
    """Three tabs of help text; non-modal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Eczema Tracker help")
        self.setModal(False)
        self.tabs = QTabWidget(self)
        self.browsers: dict[str, QTextBrowser] = {}
        for page in PAGES:
            browser = QTextBrowser(self)
            browser.setOpenExternalLinks(False)
            self.browsers[page] = browser
            self.tabs.addTab(browser, PAGE_TITLES[page])
        self.refresh()
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.resize(620, 640)

    def refresh(self) -> None:
        """(Re)write the pages (the shortcuts page reads the parent window's actions)."""
        self.browsers["how-it-works"].setHtml(HOW_IT_WORKS)
        self.browsers["shortcuts"].setHtml(shortcuts_html(self.parentWidget()))
        self.browsers["legend"].setHtml(legend_html())

    def show_page(self, page: str) -> None:
        """Bring the window up on ``page`` (one of :data:`PAGES`)."""
        if page not in PAGES:
            raise ValueError(f"unknown help page {page!r}; pages: {', '.join(PAGES)}")
        self.tabs.setCurrentIndex(PAGES.index(page))
        self.show()
        self.raise_()
        self.activateWindow()


_open: dict[int, HelpDialog] = {}


def show_help(parent: QWidget | None, page: str = "how-it-works") -> HelpDialog:
    """Open (or bring back) the help window of ``parent`` on ``page``; returns it."""
    key = id(parent)
    dialog = _open.get(key)
    try:
        alive = dialog is not None and dialog.isVisible() is not None
    except RuntimeError:  # the C++ object was deleted with its parent
        alive = False
    if dialog is None or not alive:
        dialog = HelpDialog(parent)
        _open[key] = dialog
        dialog.destroyed.connect(lambda *_: _open.pop(key, None))
    else:
        dialog.refresh()
    dialog.show_page(page)
    return dialog
