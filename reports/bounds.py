"""Bounds that keep every stored analytics document storable, since a report run must never
stop on one input (docs/architecture.md#analytics-and-insights): MongoDB refuses a document
whose BSON encoding passes 16 MiB, and BSON holds integers of 64 bits only.

- Sizes are measured as what MongoDB measures, `len(bson.encode(doc))`: characters are not
  bytes (a 256-character CJK value is 768 bytes of UTF-8, an emoji 4 bytes a character).
- Integers are kept exact where they fit in int64 and clamped to it otherwise: a metadata value
  of 2^63 - 1 goes through float64 in pandas and comes back as 2^63, one past the largest int64;
  `clamp_int` brings it back instead of letting `bson.encode` overflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import bson

MAX_BSON_BYTES = 16 * 1024 * 1024  # what mongod accepts
# What the analytics documents aim at: room below the limit for the fields the store adds.
DOCUMENT_BUDGET = 8 * 1024 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def encoded_size(document: Mapping[str, Any]) -> int:
    return len(bson.encode(document))


def clamp_int(value: float | int) -> int:
    """An integer-valued number as a Python int within int64 (clamped at its ends)."""
    if isinstance(value, float):
        if value >= 2.0**63:
            return INT64_MAX
        if value < -(2.0**63):
            return INT64_MIN
    return min(max(int(value), INT64_MIN), INT64_MAX)


class DocumentTooLarge(ValueError):
    """An analytics document that no bound could bring under its budget."""
