"""The colour of each kind of mask, one per meaning, wherever a mask is drawn.

A prompt mask (the person paints it to teach the app a body site) is blue: in the painter
while it is painted, over the photo in the photo view, and on the library's "P" badge. A
result (the app's mask, or the person's correction of it) is red, in the painter while it is
corrected and in the photo view. Blue also stands out on red, inflamed skin. Healthy skin,
marked around a lesion so its share of the skin can be measured, is green in both.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

PROMPT_MASK_COLOR = QColor("#2a7de1")
#: How texts name :data:`PROMPT_MASK_COLOR`.
PROMPT_MASK_COLOR_NAME = "blue"
RESULT_MASK_COLOR = QColor("#e0245e")
#: How texts name :data:`RESULT_MASK_COLOR`.
RESULT_MASK_COLOR_NAME = "red"
#: Healthy skin in a mask (the painter's second label).
SKIN_MASK_COLOR = QColor("#2bb673")
#: How texts name :data:`SKIN_MASK_COLOR`.
SKIN_MASK_COLOR_NAME = "green"
