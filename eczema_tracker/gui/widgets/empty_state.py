"""What an empty library shows: the three first steps and an Import button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from eczema_tracker.gui.models.status_dialog import KNOWN_DOWNLOAD_SIZES, human_size

FIRST_STEPS = f"""
<h2>Welcome to Eczema Tracker</h2>
<p>Everything stays on this computer. Three steps to your first timeline:</p>
<ol>
<li><b>Import photos</b> of your skin — drop files or folders here, or press the button below.
    Choose the body site they show.</li>
<li><b>Paint 2–3 prompt masks</b>: select a photo, press <i>Paint prompt mask…</i> and paint where
    the eczema is. The app learns each body site from these examples.</li>
<li><b>Analyse</b> the other photos (Analyse ▸ All not analysed). The lesion area of each photo
    appears on the <i>Timeline</i> tab.</li>
</ol>
<p>Analysis runs two models on this computer. The first time you analyse, the app downloads them,
once: about {human_size(sum(KNOWN_DOWNLOAD_SIZES.values()))}. <i>Models ▸ Model status</i>
downloads them now, or uses folders that already hold them.</p>
<p>Optional: rate photos 0–3 (keys 0–3) and, after 8 ratings, train your own severity model.</p>
"""


class EmptyLibraryView(QWidget):
    """Shown instead of the thumbnails while the library is empty."""

    importRequested = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        text = QLabel(FIRST_STEPS)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        button = QPushButton("Import photos…")
        button.clicked.connect(self.importRequested)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
