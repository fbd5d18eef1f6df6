"""File ▸ Report for my doctor…: choose the date range, body sites, name and paper.

The dialog only collects choices; :meth:`ReportDialog.request` turns them into an
:class:`~eczema_tracker.app.report.request.ReportRequest` (the same checks as the command line).
OK is disabled, with the reason shown, while the range ends before it starts or no body site is
ticked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app.report.request import PAPER_SIZES, ReportRequest, check_request
from eczema_tracker.gui.screen_fit import keep_on_screen

PAPER_LABELS = {"a4": "A4", "letter": "US Letter"}
#: Quick ranges: button text -> months back from the last day.
QUICK_RANGES = (("4 weeks", 0), ("3 months", 3), ("12 months", 12))


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class ReportDialog(QDialog):
    """From/to dates (default ``from_day``: the record's first day, at most a year back; else
    the last 3 months), body sites, an optional name and the paper."""

    def __init__(
        self,
        sites: Sequence[str],
        *,
        today: date | None = None,
        from_day: date | None = None,
        paper: str = "a4",
        name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Report for my doctor")
        self._sites = list(sites)
        end = _qdate(today or date.today())
        intro = QLabel(
            "A PDF to take to an appointment (two pages, more for a long record): your POEM "
            "scores, itch and sleep, each body site's lesion area and predicted severity, the "
            "timeline, photos, treatments, flares and notes. It is made on this computer and is "
            "not a diagnosis."
        )
        intro.setWordWrap(True)
        start = _qdate(from_day) if from_day is not None else end.addMonths(-3).addDays(1)
        self.from_edit = self._date_edit(start, "First day of the report")
        self.to_edit = self._date_edit(end, "Last day of the report (included)")
        self.to_edit.setMaximumDate(end)
        quick = QHBoxLayout()
        for text, months in QUICK_RANGES:
            button = QPushButton(f"Last {text}")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, m=months: self.set_last(m))
            quick.addWidget(button)
        quick.addStretch(1)
        self.site_list = QListWidget()
        self.site_list.setToolTip("The body sites whose photos are in the report")
        for site in self._sites:
            item = QListWidgetItem(site)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.site_list.addItem(item)
        if not self._sites:
            self.site_list.addItem("No photos yet: the report shows your record only.")
            self.site_list.setEnabled(False)
        self.site_list.setMaximumHeight(140)
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("optional: printed at the top")
        self.paper_combo = QComboBox()
        for key in PAPER_SIZES:
            self.paper_combo.addItem(PAPER_LABELS.get(key, key), key)
        self.paper_combo.setCurrentIndex(max(0, self.paper_combo.findData(paper)))
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b71c1c")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Make the report…")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("From", self.from_edit)
        form.addRow("To", self.to_edit)
        form.addRow("", quick)
        form.addRow("Body sites", self.site_list)
        form.addRow("Name", self.name_edit)
        form.addRow("Paper", self.paper_combo)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.from_edit.dateChanged.connect(self._check)
        self.to_edit.dateChanged.connect(self._check)
        self.site_list.itemChanged.connect(self._check)
        self._check()

    def _date_edit(self, value: QDate, tip: str) -> QDateEdit:
        edit = QDateEdit(value)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setToolTip(tip)
        return edit

    # -- values -----------------------------------------------------------------------------
    def set_last(self, months: int) -> None:
        """The range: the last ``months`` months (0: the last 4 weeks) up to the "To" date."""
        end = self.to_edit.date()
        self.from_edit.setDate(
            end.addDays(-27) if months == 0 else end.addMonths(-months).addDays(1)
        )

    def set_range(self, first: date, last: date) -> None:
        self.to_edit.setDate(_qdate(last))
        self.from_edit.setDate(_qdate(first))

    def checked_sites(self) -> list[str]:
        """The ticked body sites."""
        if not self._sites:
            return []
        items = (self.site_list.item(i) for i in range(self.site_list.count()))
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]

    def set_sites(self, sites: Sequence[str]) -> None:
        """Tick exactly these body sites."""
        wanted = set(sites)
        for i in range(self.site_list.count() if self._sites else 0):
            item = self.site_list.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() in wanted else Qt.CheckState.Unchecked
            )

    def problem_text(self) -> str:
        """Why the choices cannot make a report ("" when they can)."""
        if self.from_edit.date() > self.to_edit.date():
            return "The first day is after the last day."
        if self._sites and not self.checked_sites():
            return "Tick at least one body site."
        return ""

    def _check(self, *_args: object) -> None:
        text = self.problem_text()
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        self.ok_button.setEnabled(not text)

    def request(self) -> ReportRequest:
        """The report asked for (every site ticked: every site with photos in the range)."""
        chosen = self.checked_sites()
        everything = len(chosen) == len(self._sites)
        return check_request(
            _pydate(self.from_edit.date()),
            _pydate(self.to_edit.date()),
            sites=() if everything else chosen,
            name=self.name_edit.text(),
            paper=str(self.paper_combo.currentData()),
        )
