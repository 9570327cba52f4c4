"""The base of Laurel's domain errors: what rules/, reports/ and jobs/ raise on purpose.

Each error says what went wrong in the domain's words (a message, and details keyed by the
field they are about); only web/ turns them into HTTP status codes, in one table
(web.errors.DOMAIN_ERRORS; see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LaurelError(Exception):
    """Base of every error Laurel raises on purpose."""

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
