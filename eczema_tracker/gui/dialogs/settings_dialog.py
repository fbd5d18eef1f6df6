"""Settings: model sources (a name or a folder, checked at once), prompt photos per comparison
(K), device."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app.model_sources import cuda_available
from eczema_tracker.app.settings import Settings
from eczema_tracker.gui.models.folder_check import FolderCheck, check_model_source
from eczema_tracker.gui.screen_fit import keep_on_screen


class SourceEdit(QWidget):
    """A model source (a name to download, or a folder) with a folder picker and a line that
    says at once what the chosen folder holds and whether it fits ``role``."""

    checked = Signal(object)  # FolderCheck

    def __init__(self, text: str, caption: str, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText("a model name like facebook/dino-vitb16, or a folder")
        self.edit.setToolTip(
            "A Hugging Face hub id (downloaded once) or a folder written by save_pretrained "
            "(config.json + model.safetensors)"
        )
        browse = QPushButton("Folder…")
        browse.setToolTip("Choose a model folder already on this computer")
        browse.clicked.connect(lambda: self._browse(caption))
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.verdict)
        self._recheck = QTimer(self, singleShot=True, interval=350)  # while typing
        self._recheck.timeout.connect(self.check)
        self.edit.editingFinished.connect(self.check)
        self.edit.textChanged.connect(lambda _t: self._recheck.start())
        self.result: FolderCheck = self.check()

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> FolderCheck:
        """Put ``text`` in the field and check it (what the folder picker does)."""
        self.edit.setText(text)
        return self.check()

    def check(self) -> FolderCheck:
        """Check the source now and show the verdict under the field."""
        self._recheck.stop()
        self.result = check_model_source(self.text(), self.role)
        self.verdict.setText(self.result.text)
        self.verdict.setToolTip(self.result.details)
        self.verdict.setStyleSheet("" if self.result.ok else "color: #b00020;")
        self.checked.emit(self.result)
        return self.result

    def _browse(self, caption: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, caption, self.text())
        if folder:
            self.set_text(folder)


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`apply_to` writes the choices back."""

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, *, with_cuda: bool | None = None
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Settings")
        self.seggpt = SourceEdit(settings.seggpt_source, "Folder of the SegGPT model", "seggpt")
        self.dino = SourceEdit(settings.dino_source, "Folder of the DINO model", "dino")
        self.k = QSpinBox()
        self.k.setRange(1, 8)
        self.k.setValue(int(settings.k))
        self.k.setToolTip(
            "K: how many of the site's prompt photos guide finding the eczema on each photo "
            "(the paper uses 2; more is slower)"
        )
        self.device = QComboBox()
        self.device.addItem("Automatic", "auto")
        self.device.addItem("CPU", "cpu")
        if cuda_available() if with_cuda is None else with_cuda:
            self.device.addItem("CUDA GPU", "cuda")
        index = self.device.findData(settings.device)
        self.device.setCurrentIndex(max(index, 0))
        form = QFormLayout()
        form.addRow("SegGPT model:", self.seggpt)
        form.addRow("DINO model:", self.dino)
        form.addRow("Prompt photos per comparison:", self.k)
        form.addRow("Run on:", self.device)
        note = QLabel(
            "A model is either a name, downloaded once the first time you analyse, or a "
            "folder on this computer that holds a copy of the model."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        for source in (self.seggpt, self.dino):
            source.checked.connect(lambda _r: self._update_ok())
        self._update_ok()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def problems(self) -> list[str]:
        """Plain-words problems of the chosen model sources (empty when both fit)."""
        results = [source.check() for source in (self.seggpt, self.dino)]
        return [r.text for r in results if not r.ok]

    def accept(self) -> None:
        """OK: only with model sources that fit their role (a wrong folder is never kept)."""
        if self.problems():
            self._update_ok()
            return
        super().accept()

    def _update_ok(self) -> None:
        ok = self.seggpt.result.ok and self.dino.result.ok
        self.ok_button.setEnabled(ok)
        self.ok_button.setToolTip("" if ok else "Choose a fitting model folder first")

    def apply_to(self, settings: Settings) -> None:
        """Copy the dialog's choices into ``settings``."""
        settings.seggpt_source = self.seggpt.text() or settings.seggpt_source
        settings.dino_source = self.dino.text() or settings.dino_source
        settings.k = int(self.k.value())
        settings.device = str(self.device.currentData())
