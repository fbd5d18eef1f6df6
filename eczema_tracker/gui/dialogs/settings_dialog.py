"""Settings: model sources (text or folder), K prompts per photo, device."""

from __future__ import annotations

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

from eczema_tracker.settings import Settings


def cuda_available() -> bool:
    """True when torch sees a CUDA GPU (torch is imported only here, when asked)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - no usable torch: no GPU choice
        return False


class SourceEdit(QWidget):
    """A source text (hub id, folder or pkg:NAME) with a folder picker."""

    def __init__(self, text: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText("hub id like facebook/dino-vitb16, or a folder")
        browse = QPushButton("Folder…")
        browse.clicked.connect(lambda: self._browse(caption))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def text(self) -> str:
        return self.edit.text().strip()

    def _browse(self, caption: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, caption, self.text())
        if folder:
            self.edit.setText(folder)


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`apply_to` writes the choices back."""

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, *, with_cuda: bool | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.seggpt = SourceEdit(settings.seggpt_source, "Folder of the SegGPT model")
        self.dino = SourceEdit(settings.dino_source, "Folder of the DINO model")
        self.k = QSpinBox()
        self.k.setRange(1, 8)
        self.k.setValue(int(settings.k))
        self.k.setToolTip(
            "How many of the site's prompt masks guide each segmentation (the paper uses 2)"
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
        form.addRow("Prompts per photo (K):", self.k)
        form.addRow("Run on:", self.device)
        note = QLabel(
            "A model source is a Hugging Face id (downloaded once when you first analyse) "
            "or a folder holding config.json and model.safetensors."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def apply_to(self, settings: Settings) -> None:
        """Copy the dialog's choices into ``settings``."""
        settings.seggpt_source = self.seggpt.text() or settings.seggpt_source
        settings.dino_source = self.dino.text() or settings.dino_source
        settings.k = int(self.k.value())
        settings.device = str(self.device.currentData())
