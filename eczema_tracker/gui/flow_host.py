"""What a flow needs of the window it works for, as small protocols (the main window is one).

A flow (analysis, prompts, personal model, photo edits) gets the
:class:`~eczema_tracker.gui.store_session.StoreSession` and these few methods, never the
window's widgets: a test can hand it any object with these methods (and a plain ``QWidget`` as
the parent of its background tasks) instead of a whole ``MainWindow``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from eczema_tracker.gui.models.status_dialog import ModelStatusReport
    from eczema_tracker.gui.photo_edit import PhotoEdit
    from eczema_tracker.gui.widgets.photo_view import PhotoDetails
    from eczema_tracker.ml.sources import SourceStatus


class Messages(Protocol):
    """Tells the person things and asks yes/no (without blocking background work)."""

    def show_message(
        self,
        kind: str,
        title: str,
        text: str,
        details: str = "",
        action: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        """``kind`` is "info", "warning" or "error"; ``action`` adds a button (its text, and
        what it does once the box is closed by it)."""
        ...

    def ask_question(self, title: str, text: str) -> bool:
        """A yes/no question; True for yes."""
        ...

    def status(self, text: str) -> None:
        """A short note in the status bar."""
        ...


class ModelQuestions(Messages, Protocol):
    """:class:`Messages` plus the questions before a first analysis."""

    def ask_model_action(self, missing: list[tuple[str, SourceStatus]]) -> str | None:
        """ "download", "local" or None for models not on this computer."""
        ...

    def ask_settings(self) -> bool:
        """Open the settings; True when the person changed something."""
        ...

    def ask_model_status(self, report: ModelStatusReport) -> str | None:
        """Show Models ▸ Model status: "download", "local" (choose folders) or None."""
        ...

    def save_settings(self) -> None:
        """Write the settings (a failure is told, never fatal)."""
        ...


class EditHost(Messages, Protocol):
    """What the photo edit actions need: which photos, and the questions they ask."""

    @property
    def shown_photo(self) -> int | None:
        """The photo in the photo view."""
        ...

    def shown_details(self) -> PhotoDetails | None:
        """What the photo view shows of it."""
        ...

    def target_photo_ids(self) -> list[int]:
        """The library's selection, else the photo shown."""
        ...

    def current_site_filter(self) -> str | None:
        """The body site the library shows (None: all)."""
        ...

    def show_site(self, site: str) -> None:
        """Make the library show ``site`` (after a rename)."""
        ...

    def open_photo(self, photo_id: int) -> None:
        """Show a photo."""
        ...

    def clear_photo(self) -> None:
        """Show no photo."""
        ...

    def ask_move_site(self, count: int, current: str | None = None) -> str | None: ...

    def ask_rename_site(self, old: str) -> str | None: ...

    def ask_photo_edit(self, details: PhotoDetails) -> PhotoEdit | None: ...
