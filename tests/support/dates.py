"""Moments as the API writes and reads them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """`moment` in UTC as ISO-8601 with a `Z`: `2026-11-26T12:00:00Z`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
