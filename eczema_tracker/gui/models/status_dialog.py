"""The models, in words: which are needed and how big the download is (before a first
analysis), and where each one comes from (Models ▸ Model status), with the next step in the
same dialog: download, or choose folders on this computer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.ml.sources import SourceStatus

#: Download sizes of the default checkpoints (safetensors + json), for the explanation.
KNOWN_DOWNLOAD_SIZES: dict[str, int] = {
    "BAAI/seggpt-vit-large": 1_483_000_000,
    "facebook/dino-vitb16": 343_000_000,
}
ROLE_NAMES = {
    "seggpt": "SegGPT ViT-L (finds the eczema from your prompt masks)",
    "dino": "DINO ViT-B/16 (picks the closest prompts and describes the skin)",
}


#: How the DINO that comes with the app is offered and named wherever it can be chosen.
BUNDLED_DINO_NOTE = "a smaller DINO that came with the app; results differ from the paper's model"


def download_size(missing: Sequence[tuple[str, SourceStatus]]) -> int:
    """The known download size of the ``missing`` models, in bytes (0 when unknown)."""
    return sum(KNOWN_DOWNLOAD_SIZES.get(status.source, 0) for _, status in missing)


def download_note(source: str) -> str:
    """ "1.5 GB to download" for a model not on this computer ("size unknown" when unknown)."""
    size = KNOWN_DOWNLOAD_SIZES.get(source)
    return f"{human_size(size)} to download" if size else "size unknown"


def human_size(n_bytes: int | None) -> str:
    """'1.2 GB', '343 MB', or 'size unknown'."""
    if not n_bytes:
        return "size unknown"
    if n_bytes >= 1e9:
        return f"{n_bytes / 1e9:.1f} GB"
    return f"{n_bytes / 1e6:.0f} MB"


def describe_missing(missing: Sequence[tuple[str, SourceStatus]]) -> str:
    """One line per missing model: role, source and download size."""
    lines = []
    for role, status in missing:
        size = KNOWN_DOWNLOAD_SIZES.get(status.source)
        lines.append(f"• {ROLE_NAMES.get(role, role)}: {status.source} — {human_size(size)}")
    return "\n".join(lines)


class ModelsDialog(QDialog):
    """Explains the download; ``choice`` is "download", "local" or None (cancelled)."""

    def __init__(
        self, missing: Sequence[tuple[str, SourceStatus]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Models needed for analysis")
        self.choice: str | None = None
        total = download_size(missing)
        text = QLabel(
            "To analyse photos the app needs two models that run on this computer. Your photos "
            "never leave it; only the model files are downloaded, once:\n\n"
            f"{describe_missing(missing)}\n\nIn total about {human_size(total)}. You can cancel the "
            "download at any time. If the models are already on this computer (for example "
            "copied from another computer), choose their folders instead."
        )
        text.setWordWrap(True)
        buttons = QDialogButtonBox()
        download = QPushButton("Download")
        local = QPushButton("Use model folders on this computer…")
        local.setToolTip("Folders written by save_pretrained (config.json + model.safetensors)")
        buttons.addButton(download, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(local, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        download.clicked.connect(lambda: self._choose("download"))
        local.clicked.connect(lambda: self._choose("local"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.setMinimumWidth(640)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()


@dataclass(frozen=True)
class ModelStatusReport:
    """What Models ▸ Model status shows: one line per model and setting, and the models that
    can be downloaded now (hub models not on this computer yet)."""

    lines: tuple[str, ...]
    downloadable: tuple[tuple[str, SourceStatus], ...] = ()
    downloads_allowed: bool = True


class ModelStatusDialog(QDialog):
    """Models ▸ Model status: where each model comes from and whether it is here, with
    *Download* (the models not here yet) and *Choose folders…* (the model folders in the
    settings). ``choice`` is "download", "local" or None (closed)."""

    def __init__(self, report: ModelStatusReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        keep_on_screen(self)
        self.choice: str | None = None
        text = "\n".join(report.lines)
        if report.downloadable:
            size = human_size(download_size(report.downloadable))
            what = "it" if len(report.downloadable) == 1 else "them"
            text += (
                f"\n\nDownload {what} now (about {size}, once; you can cancel at any time), or "
                f"choose folders that already hold {what}."
            )
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.folders_button = QPushButton("Choose folders…")
        self.folders_button.setToolTip(
            "Use model folders already on this computer (File ▸ Settings)"
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.folders_button, QDialogButtonBox.ButtonRole.ActionRole)
        if not report.downloadable:
            self.download_button.setEnabled(False)
            self.download_button.setToolTip("Every model is on this computer")
        elif not report.downloads_allowed:
            self.download_button.setEnabled(False)
            self.download_button.setToolTip("Model downloads are switched off in the settings")
        self.download_button.clicked.connect(lambda: self._choose("download"))
        self.folders_button.clicked.connect(lambda: self._choose("local"))
        buttons.rejected.connect(self.reject)
        (
            self.download_button if self.download_button.isEnabled() else self.folders_button
        ).setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(640)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
