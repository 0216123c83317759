"""Errors of the notifiers.

NotifierError
└── SendError       one attempt to deliver failed (carries status_code, retry_after)
"""

from __future__ import annotations


class NotifierError(Exception):
    """Base of every error raised by `notifiers`."""


class SendError(NotifierError):
    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        self.status_code = status_code
        self.retry_after = retry_after
        super().__init__(message)
