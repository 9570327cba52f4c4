"""Funnel definitions (docs/api.md#insights): ordered steps, each an eventId with optional
conditions (the language of rules.engine.conditions, compiled once), and a conversion window counted
from entry.

Stored like the other definitions (rules.stores.definitions, `funnel_definitions`); compiled here
into a FunnelRule that reports.insights.funnels walks. Validation reports every bad node by its path
(`steps[1].conditions.all[0].op`), as rules.engine.conditions does for a single condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.engine.conditions import Predicate, always, compile_condition
from rules.errors import InvalidDefinition

MIN_STEPS, MAX_STEPS = 2, 10
MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS = 60, 7_776_000  # a minute to 90 days
DEFAULT_WINDOW_SECONDS = 604_800  # a week
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class FunnelStep:
    event_id: str
    matches: Predicate  # of the event's metadata
    conditional: bool


@dataclass(frozen=True)
class FunnelRule:
    funnel_id: str
    name: str
    steps: tuple[FunnelStep, ...]
    window_seconds: int
    active: bool

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> FunnelRule:
        errors: dict[str, list[str]] = {}
        steps_doc = doc.get("steps")
        steps: list[FunnelStep] = []
        if not isinstance(steps_doc, list) or not MIN_STEPS <= len(steps_doc) <= MAX_STEPS:
            errors["steps"] = [f"must be a list of {MIN_STEPS}-{MAX_STEPS} steps"]
            steps_doc = []
        for index, step in enumerate(steps_doc):
            where = f"steps[{index}]"
            if not isinstance(step, Mapping):
                errors[where] = ["must be an object {eventId, conditions?}"]
                continue
            event_id = step.get("eventId")
            if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
                errors[f"{where}.eventId"] = ["must be 1-64 characters of A-Z a-z 0-9 _ . : -"]
            conditions = step.get("conditions")
            matches: Predicate = always
            if conditions is not None:
                try:
                    matches = compile_condition(conditions)
                except InvalidDefinition as error:
                    for path, messages in error.details.items():
                        key = f"{where}.conditions" + (f".{path}" if path else "")
                        errors.setdefault(key, []).extend(messages)
            steps.append(FunnelStep(str(event_id), matches, conditions is not None))
        window = doc.get("windowSeconds", DEFAULT_WINDOW_SECONDS)
        if (
            isinstance(window, bool)
            or not isinstance(window, int)
            or not MIN_WINDOW_SECONDS <= window <= MAX_WINDOW_SECONDS
        ):
            errors["windowSeconds"] = [
                f"must be a whole number from {MIN_WINDOW_SECONDS} to {MAX_WINDOW_SECONDS}"
            ]
        if errors:
            raise InvalidDefinition("invalid funnel", errors)
        return cls(
            funnel_id=str(doc.get("funnelId", "")),
            name=str(doc.get("name", "")),
            steps=tuple(steps),
            window_seconds=int(window),
            active=bool(doc.get("active", True)),
        )
