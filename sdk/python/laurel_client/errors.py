"""The one exception the client raises for an answer it cannot turn into data."""

from __future__ import annotations

from typing import Any


class LaurelError(Exception):
    """An error answer of Laurel (after any retries), or no answer at all.

    `status` is the HTTP status (None when no answer arrived: `code` is then
    "connection_error"); `code`, `message` and `details` are the error envelope's.
    `details` maps a field path ("metadata.orderValue", "body", a header name) to its messages.
    """

    def __init__(
        self,
        status: int | None,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status or 'no answer'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.retry_after = retry_after
