"""First analysis: say which models will be downloaded (names, sizes), or use local folders."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from eczema_tracker.app.model_sources import SourceStatus
from eczema_tracker.gui.screen_fit import keep_on_screen

#: Download sizes of the default checkpoints (safetensors + json), for the explanation.
KNOWN_DOWNLOAD_SIZES: dict[str, int] = {
    "BAAI/seggpt-vit-large": 1_483_000_000,
    "facebook/dino-vitb16": 343_000_000,
}
ROLE_NAMES = {
    "seggpt": "SegGPT ViT-L (finds the eczema from your prompt masks)",
    "dino": "DINO ViT-B/16 (picks the closest prompts and describes the skin)",
}


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
        total = sum(KNOWN_DOWNLOAD_SIZES.get(s.source, 0) for _, s in missing)
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
