"""The prompt panel's word on each body site: how many examples, do they agree, which photo to
paint next; one line per site, so the library under it keeps its room.

Shows the :class:`~eczema_tracker.gui.trust.flow.SiteTrust` list the
:class:`~eczema_tracker.gui.trust.flow.TrustFlow` announces, one line per site ("left arm: 2
examples · agree 78 %", :func:`site_line`) with a "Paint next…" button that opens the suggested
photo in the painter (``paintRequested(photo_id)``). The details are the line's tooltip and open
under it from its arrow: the examples' agreement in one sentence (the wording of
:meth:`~eczema_tracker.app.trust.SiteAgreement.describe`, "Checking your examples…" while the
check runs; the weakest example's "Show it" is a link: ``weakestRequested(site)``, which shows it
next to what SegGPT found in it; the tooltip says when a result kept from an earlier check was
made) and "Paint next: photo of 3 April 2026". A site whose examples agree below
``trust.RELIABLE_AGREEMENT`` is loud: its line says "⚠ … results not reliable yet — paint another
example" in red and bold (the mark and the words carry it without the colour).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app.trust.agreement import (
    MIN_PROMPTS_TO_CHECK,
    UNRELIABLE_COLOR,
    UNRELIABLE_MARK,
    UNRELIABLE_TEXT,
    reliability_of,
)

if TYPE_CHECKING:
    from eczema_tracker.gui.trust.flow import SiteTrust

CHECKING = "Checking your examples…"
MODELS_MISSING = (
    "How well your examples agree is checked once the models are set up "
    "(they are set up with the first analysis)."
)
ANALYSE_FIRST = "Analyse this site's photos to see which one to paint next."
NEXT_TIP = (
    "The photo least like your examples: painting it as an example teaches the app the most "
    "about this site."
)
FIRST_TIP = "A photo typical of this site: a good first example."


def _day(taken_at: str) -> str:
    """``3 April 2026`` (the way the agreement sentence names days)."""
    try:
        when = datetime.fromisoformat(taken_at.strip())
    except (ValueError, AttributeError):
        return taken_at or "an unknown day"
    return f"{when.day} {when:%B %Y}"


def agreement_text(state: SiteTrust) -> str:
    """What is known of how well ``state``'s examples agree, in one or two sentences."""
    if state.prompt_count >= 2 and state.models_missing:
        return MODELS_MISSING
    if state.checking:
        return f"{CHECKING} ({state.progress})" if state.progress else CHECKING
    if state.problem:
        return f"Your examples could not be checked: {state.problem}"
    if state.agreement is not None:
        return state.agreement.describe()
    return ""


def agreement_tip(state: SiteTrust) -> str:
    """The agreement's tooltip: how it was checked, and when for a result kept from before."""
    checked = state.agreement
    if checked is None:
        return ""
    if checked.computed_at is None or checked.agreement is None:
        return checked.note
    return (
        f"{checked.note[0].upper()}{checked.note[1:]}.\nChecked on {_day(checked.computed_at)}; "
        "checked again when your examples or the models change."
    )


def next_text(state: SiteTrust) -> str:
    """ "Paint next: photo of 3 April 2026", the hint to analyse first, or ""."""
    if state.next_photo is not None:
        return f"Paint next: photo of {_day(state.next_photo.taken_at)}"
    if state.unannotated and state.prompt_count >= 2:
        return ANALYSE_FIRST
    return ""


def unreliable(state: SiteTrust) -> bool:
    """Whether ``state``'s site is shown as "not reliable yet" (its checked examples agree
    below ``trust.RELIABLE_AGREEMENT``; not while a newer check runs)."""
    return (
        not state.checking
        and not state.models_missing
        and not state.problem
        and not reliability_of(state.agreement, state.site).reliable
    )


def site_line(state: SiteTrust) -> str:
    """The site's one line: "left arm: 2 examples · agree 78 %" (the details are in
    :func:`agreement_text`, shown on hover or when the line is opened)."""
    count = state.prompt_count
    examples = "no examples" if count == 0 else "1 example" if count == 1 else f"{count} examples"
    checked = state.agreement
    if count < MIN_PROMPTS_TO_CHECK:
        status = f"paint {MIN_PROMPTS_TO_CHECK - count} more"
    elif state.models_missing:
        status = "not checked yet"
    elif state.checking:
        status = "checking…"
    elif state.problem:
        status = "check failed"
    elif checked is not None and checked.mean_iou is not None:
        # a no-break space: the line wraps before the number, never between it and its "%"
        status = f"agree {100 * checked.mean_iou:.0f}\u00a0%"
        if unreliable(state):
            status = f"{UNRELIABLE_MARK} {status}: {UNRELIABLE_TEXT}"
    else:
        status = ""
    return f"{state.site}: {examples}" + (f" · {status}" if status else "")


class _SiteBlock(QWidget):
    """One site: one line (its name, examples and agreement, an arrow that opens the details,
    "Paint next…"); the details: the agreement in words and the photo to paint next."""

    def __init__(self, summary: TrustSummary) -> None:
        super().__init__()
        self.photo_id: int | None = None
        self.unreliable = False  #: the site is shown as "results not reliable yet"
        self._plain = ""
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolTip("Show or hide what was found for this site")
        self.toggle.toggled.connect(self._show_details)
        self.line = QLabel()
        self.line.setWordWrap(True)  # one line where the pane is wide enough, never cut off
        self.line.setTextFormat(Qt.TextFormat.RichText)
        self.button = QPushButton("Paint next…")
        self.button.clicked.connect(
            lambda: summary.paintRequested.emit(self.photo_id) if self.photo_id else None
        )
        self.agreement = QLabel()
        self.agreement.setWordWrap(True)
        self.agreement.setTextFormat(Qt.TextFormat.RichText)
        self.site = ""
        self.agreement.linkActivated.connect(lambda _link: summary.weakestRequested.emit(self.site))
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(self.toggle.sizeHint().width(), 0, 0, 2)
        details.setSpacing(2)
        details.addWidget(self.agreement)
        details.addWidget(self.next_label)
        self.details.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.line, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.details)

    def _show_details(self, shown: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.details.setVisible(shown)

    def show_state(self, state: SiteTrust) -> None:
        self.site = state.site
        said = agreement_text(state)
        line = site_line(state)
        site, rest = line[: len(state.site)], line[len(state.site) :]
        loud = unreliable(state)
        if loud:  # colour, a mark and words: never colour alone
            rest = (
                f'<span style="color:{UNRELIABLE_COLOR}; font-weight:bold">{_escape(rest)}</span>'
            )
        else:
            rest = _escape(rest)
        self.line.setText(f"<b>{_escape(site)}</b>{rest}")
        self.line.setAccessibleName(line)
        self.unreliable = loud
        html = _escape(said)
        checked = state.agreement
        if html and checked is not None and checked.weakest_photo_id is not None:
            if said == checked.describe():  # the check's result is what is shown
                html += f' <a href="photo:{checked.weakest_photo_id}">Show it</a>'
        self.agreement.setText(html)
        self.agreement.setVisible(bool(said))
        self.agreement.setToolTip(agreement_tip(state))
        pick = state.next_photo
        self.photo_id = pick.photo_id if pick is not None else None
        text = next_text(state)
        self.next_label.setText(text)
        self.next_label.setVisible(bool(text))
        tip = "" if pick is None else FIRST_TIP if pick.distance is None else NEXT_TIP
        self.next_label.setToolTip(tip)
        self.button.setVisible(pick is not None)
        self.button.setToolTip(f"{text}: open it in the painter.\n{tip}" if pick else "")
        self._plain = "\n".join(t for t in (f"{state.site}: {said}" if said else "", text) if t)
        self.line.setToolTip(self._plain)  # the details on hover
        self.toggle.setVisible(bool(self._plain))

    def text(self) -> str:
        return self._plain

    def line_text(self) -> str:
        return self.line.text().replace("<b>", "").replace("</b>", "").replace("&amp;", "&")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TrustSummary(QWidget):
    """Per site: how well the examples agree, and a one-click "paint this next"."""

    paintRequested = Signal(int)  # noqa: N815 - the photo to show and paint
    weakestRequested = Signal(str)  # noqa: N815 - "Show it": the site's weakest example
    shownChanged = Signal(bool)  # noqa: N815 - True: it has lines to show (one site or more)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._blocks: dict[str, _SiteBlock] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addStretch(1)  # the lines stay together at the top
        self.setVisible(False)

    def show_sites(self, states: Sequence[SiteTrust]) -> None:
        """Show ``states`` (one block per site, in this order; others are removed)."""
        wanted = [s.site for s in states]
        for site in [s for s in self._blocks if s not in wanted]:
            gone = self._blocks.pop(site)
            self._layout.removeWidget(gone)
            gone.deleteLater()
        for index, state in enumerate(states):
            block = self._blocks.get(state.site)
            if block is None:
                block = self._blocks[state.site] = _SiteBlock(self)
            if self._layout.indexOf(block) != index:
                self._layout.removeWidget(block)
                self._layout.insertWidget(index, block)
            block.show_state(state)
        self.setVisible(bool(self._blocks))
        self.shownChanged.emit(bool(self._blocks))

    def site_text(self, site: str) -> str:
        """The details of ``site`` (plain lines, shown on hover or once opened; "" if none)."""
        block = self._blocks.get(site)
        return "" if block is None else block.text()

    def site_line(self, site: str) -> str:
        """The one line of ``site`` ("" if none)."""
        block = self._blocks.get(site)
        return "" if block is None else block.line_text()

    def details_button(self, site: str) -> QToolButton | None:
        """The arrow that shows or hides ``site``'s details."""
        block = self._blocks.get(site)
        return None if block is None else block.toggle

    def details_shown(self, site: str) -> bool:
        """True while ``site``'s details are open."""
        block = self._blocks.get(site)
        return block is not None and block.details.isVisibleTo(self)

    def paint_button(self, site: str) -> QPushButton | None:
        """The "Paint next…" button on ``site``'s line (shown when a photo is suggested)."""
        block = self._blocks.get(site)
        return None if block is None else block.button


class SitesStrip(QScrollArea):
    """Holds a :class:`TrustSummary` in the left pane: as tall as its lines (and the details
    opened) need at the pane's width, and scrolling where the pane is lower than that (the
    library under it keeps its least height). Shown only while the summary has lines."""

    def __init__(self, summary: TrustSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._summary = summary
        self.setWidget(summary)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        summary.installEventFilter(self)  # its lines changed: ask the pane for a new height
        summary.shownChanged.connect(self.setVisible)
        self.setVisible(False)

    def sizeHint(self) -> QSize:  # noqa: N802
        summary = self._summary
        width = self.viewport().width() if self.isVisible() else summary.sizeHint().width()
        height = (
            summary.heightForWidth(width)
            if summary.hasHeightForWidth()
            else summary.sizeHint().height()
        )
        return QSize(summary.sizeHint().width(), max(height, 0) + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, min(self.sizeHint().height(), 3 * self.fontMetrics().lineSpacing()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        width_changed = event.size().width() != event.oldSize().width()
        super().resizeEvent(event)
        if width_changed:  # the lines wrap differently: another height
            self.updateGeometry()
