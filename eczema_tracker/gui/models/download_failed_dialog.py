"""A failed model download, said in words, with the next step in the same dialog.

:func:`describe_download_failure` turns whatever the download raised (huggingface_hub, its HTTP
client, sockets, the disk) into one sentence such as "The models could not be downloaded: this
computer seems to be offline." The exception itself is written to the log, never shown.
:class:`DownloadFailedDialog` then offers: try again, or use model folders already on this
computer, and, where the network is the problem and DINO was among the downloads, the smaller
DINO that came with the app (when its package is installed).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.gui.screen_fit import keep_on_screen

HEADLINE = "The models could not be downloaded"
#: Failures that mean the network cannot be used now: the DINO that came with the app is
#: offered (it needs no download).
NO_NETWORK_REASONS = frozenset({"offline", "switched-off", "timeout"})

#: Class names (anywhere in the exception chain) that mean "no network": requests, urllib3,
#: httpx, huggingface_hub.
_OFFLINE_NAMES = {
    "ConnectionError",
    "ConnectError",
    "NewConnectionError",
    "NameResolutionError",
    "MaxRetryError",
    "ProxyError",
    "OfflineModeIsEnabled",
    "LocalEntryNotFoundError",
    "NetworkError",
}
_TIMEOUT_NAMES = {"Timeout", "ReadTimeout", "ConnectTimeout", "TimeoutException", "TimeoutError"}
_NOT_FOUND_NAMES = {
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
    "EntryNotFoundError",
    "RemoteEntryNotFoundError",
}
_OFFLINE_WORDS = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "network is unreachable",
    "no route to host",
    "connection refused",
    "failed to resolve",
    "getaddrinfo failed",
    "errno -2",
    "errno -3",
)


@dataclass(frozen=True)
class DownloadFailure:
    """What went wrong, for the person (``text``) and for the log (``technical``)."""

    reason: str  #: "offline", "switched-off", "timeout", "not-found", "refused", "server",
    #: "disk-full", "not-allowed" or "other"
    text: str  #: "The models could not be downloaded: this computer seems to be offline."
    technical: str = ""  #: exception types and messages (tooltip and log only)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it was raised from or during (cause first, then context)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += [e for e in getattr(current, "args", ()) if isinstance(e, BaseException)]


def _status_code(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return int(code) if isinstance(code, int) else None


def classify_download_error(exc: BaseException) -> str:
    """The reason key of :class:`DownloadFailure` for an exception raised by a download."""
    chain = list(exception_chain(exc))
    names = {type(e).__name__ for e in chain}
    words = " ".join(str(e).lower() for e in chain)
    if "hf_hub_offline" in words:
        return "switched-off"
    for e in chain:
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            return "disk-full"
        if isinstance(e, PermissionError):
            return "not-allowed"
    if names & _NOT_FOUND_NAMES or any(_status_code(e) == 404 for e in chain):
        return "not-found"
    if any(_status_code(e) in (401, 403) for e in chain) or "GatedRepoError" in names:
        return "refused"
    if any((_status_code(e) or 0) >= 500 for e in chain):
        return "server"
    if names & _TIMEOUT_NAMES or any(isinstance(e, (TimeoutError, socket.timeout)) for e in chain):
        return "timeout"
    if (
        names & _OFFLINE_NAMES
        or any(isinstance(e, (socket.gaierror, ConnectionError)) for e in chain)
        or any(w in words for w in _OFFLINE_WORDS)
    ):
        return "offline"
    return "other"


_REASON_TEXT = {
    "offline": "this computer seems to be offline.",
    "switched-off": "downloads are switched off on this computer (it is set to work offline).",
    "timeout": "the download server did not answer in time. The connection may be slow.",
    "not-found": "the model was not found on the download server. Check its name in "
    "File ▸ Settings.",
    "refused": "the download server refused to give out this model.",
    "server": "the download server had a problem. Try again in a while.",
    "disk-full": "there is not enough free space on this computer's disk.",
    "not-allowed": "the app is not allowed to write into its model folder.",
    "other": "the download stopped unexpectedly. Details were written to the log.",
}


def describe_download_failure(exc: BaseException) -> DownloadFailure:
    """One plain sentence for the person, the technical story for the log and tooltip."""
    reason = classify_download_error(exc)
    technical = " ← ".join(
        f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        for e in exception_chain(exc)
    )
    return DownloadFailure(reason, f"{HEADLINE}: {_REASON_TEXT[reason]}", technical)


def next_step_text(failure: DownloadFailure) -> str:
    """What the person can do now."""
    if failure.reason in ("offline", "timeout", "server"):
        first = "Connect to the internet and try again (files already downloaded are kept)"
    elif failure.reason == "switched-off":
        first = "Allow downloads on this computer and try again"
    elif failure.reason == "disk-full":
        first = "Free some disk space (about 2 GB) and try again"
    else:
        first = "Try again"
    return (
        f"What you can do:\n• {first}, or\n• use model folders that are already on this "
        "computer (for example copied from another computer)."
    )


class DownloadFailedDialog(QDialog):
    """The failure in words plus buttons for the next step; ``choice`` is "retry", "local",
    "bundled-dino" (only when ``bundled_dino`` offered it: use the DINO that came with the app)
    or None (closed). ``chosen(choice)`` is emitted when a button was pressed.

    ``bundled_dino`` is the sentence that offers the DINO that came with the app ("" offers
    nothing); the caller decides when it applies (see :data:`NO_NETWORK_REASONS`).
    """

    chosen = Signal(object)

    def __init__(
        self, failure: DownloadFailure, parent: QWidget | None = None, *, bundled_dino: str = ""
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Models not downloaded")
        self.failure = failure
        self.choice: str | None = None
        self.message = QLabel(failure.text)
        self.message.setWordWrap(True)
        font = self.message.font()
        font.setBold(True)
        self.message.setFont(font)
        self.message.setToolTip(failure.technical)
        self.next_step = QLabel(next_step_text(failure))
        self.next_step.setWordWrap(True)
        self.retry_button = QPushButton("Try again")
        self.local_button = QPushButton("Use model folders on this computer…")
        buttons = QDialogButtonBox()
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.local_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.bundled_button: QPushButton | None = None
        self.bundled_text: QLabel | None = None
        if bundled_dino:
            self.bundled_text = QLabel(bundled_dino)
            self.bundled_text.setWordWrap(True)
            self.bundled_button = QPushButton("Use the DINO that came with the app")
            buttons.addButton(self.bundled_button, QDialogButtonBox.ButtonRole.ActionRole)
            self.bundled_button.clicked.connect(lambda: self._choose("bundled-dino"))
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.retry_button.clicked.connect(lambda: self._choose("retry"))
        self.local_button.clicked.connect(lambda: self._choose("local"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.next_step)
        if self.bundled_text is not None:
            layout.addWidget(self.bundled_text)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
        self.chosen.emit(choice)
