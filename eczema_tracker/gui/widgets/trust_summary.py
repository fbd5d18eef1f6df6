"""The prompt panel's word on each body site: do its examples agree, which photo to paint next.

Shows the :class:`~eczema_tracker.gui.trust_flow.SiteTrust` list the
:class:`~eczema_tracker.gui.trust_flow.TrustFlow` announces, one block per site: the examples'
agreement in one sentence (the wording of
:meth:`~eczema_tracker.app.trust.SiteAgreement.describe`), "Checking your examples…" while the
check runs (the weakest example is a link: ``photoRequested(photo_id)``; the tooltip says when
a result kept from an earlier check was made), and "Paint next:
photo of 3 April 2026" with a button that opens that photo in the painter
(``paintRequested(photo_id)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from eczema_tracker.gui.trust_flow import SiteTrust

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


class _SiteBlock(QWidget):
    """One site: its name and agreement, and the photo to paint next with its button."""

    def __init__(self, summary: TrustSummary) -> None:
        super().__init__()
        self.photo_id: int | None = None
        self._plain = ""
        self.agreement = QLabel()
        self.agreement.setWordWrap(True)
        self.agreement.setTextFormat(Qt.TextFormat.RichText)
        self.agreement.linkActivated.connect(
            lambda link: summary.photoRequested.emit(int(link.removeprefix("photo:")))
        )
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        self.button = QPushButton("Paint it…")
        self.button.setToolTip("Show this photo and open the painter on it")
        self.button.clicked.connect(
            lambda: summary.paintRequested.emit(self.photo_id) if self.photo_id else None
        )
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.next_label, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(2)
        layout.addWidget(self.agreement)
        layout.addLayout(row)

    def show_state(self, state: SiteTrust) -> None:
        said = agreement_text(state)
        html = f"<b>{_escape(state.site)}</b>: {_escape(said)}" if said else ""
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
        self.next_label.setToolTip(
            "" if pick is None else FIRST_TIP if pick.distance is None else NEXT_TIP
        )
        self.button.setVisible(pick is not None)
        self._plain = "\n".join(t for t in (f"{state.site}: {said}" if said else "", text) if t)

    def text(self) -> str:
        return self._plain


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TrustSummary(QWidget):
    """Per site: how well the examples agree, and a one-click "paint this next"."""

    paintRequested = Signal(int)  # noqa: N815 - the photo to show and paint
    photoRequested = Signal(int)  # noqa: N815 - the photo to show (the weakest example)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._blocks: dict[str, _SiteBlock] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
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
        self.setVisible(any(b.text() for b in self._blocks.values()))

    def site_text(self, site: str) -> str:
        """What the block of ``site`` says (plain lines; "" if none)."""
        block = self._blocks.get(site)
        return "" if block is None else block.text()

    def paint_button(self, site: str) -> QPushButton | None:
        """The "Paint it…" button of ``site`` (shown when a photo is suggested)."""
        block = self._blocks.get(site)
        return None if block is None else block.button
