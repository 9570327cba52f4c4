"""A streak's state as stored (BSON-clean fields) and read back; rules.engine.streaks re-exports
both functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rules.engine.state import PaidRun, StreakBase, StreakMoment, StreakState


def streak_state_to_document(state: StreakState) -> dict[str, Any]:
    """The state as BSON-clean fields; the caller adds the streakId."""
    base = state.base
    return {
        "currentCount": state.current_count,
        "longestCount": state.longest_count,
        "lastUpdate": state.last_update,
        "freezes": state.freezes,
        "period": state.period,
        "recent": [{"at": moment.at, "zone": moment.zone} for moment in state.recent],
        "base": {
            "count": base.count,
            "longest": base.longest,
            "freezes": base.freezes,
            "runStart": base.run_start,
            "lastCounted": base.last_counted,
            "through": base.through,
            "folded": [{"at": moment.at, "zone": moment.zone} for moment in base.folded],
        },
        "paid": [{"runStart": record.start, "through": record.through} for record in state.paid],
        "walkedWith": None
        if state.walked_with is None
        else {"max": state.walked_with[0], "earnEvery": state.walked_with[1]},
    }


def streak_state_from_document(doc: Mapping[str, Any]) -> StreakState:
    current, longest, freezes = doc["currentCount"], doc["longestCount"], doc.get("freezes", 0)
    last_update = doc.get("lastUpdate")
    base = doc.get("base")
    if base is None:
        # Stored before moments were kept: all of it is the base, the last counted moment its
        # end. The next event is judged against that moment as it always was.
        return StreakState(
            current_count=current,
            longest_count=longest,
            last_update=last_update,
            freezes=freezes,
            period=doc.get("period"),
            base=StreakBase(
                count=current,
                longest=longest,
                freezes=freezes,
                run_start=last_update,
                last_counted=last_update,
                through=last_update,
            ),
        )
    return StreakState(
        current_count=current,
        longest_count=longest,
        last_update=last_update,
        freezes=freezes,
        period=doc.get("period"),
        recent=_moments(doc.get("recent", [])),
        base=StreakBase(
            count=base["count"],
            longest=base["longest"],
            freezes=base["freezes"],
            run_start=base.get("runStart"),
            last_counted=base.get("lastCounted"),
            through=base.get("through"),
            folded=_moments(base.get("folded", [])),
        ),
        paid=tuple(PaidRun(p["runStart"], p["through"]) for p in doc.get("paid", [])),
        walked_with=_walked_with(doc.get("walkedWith")),
    )


def _walked_with(doc: Mapping[str, Any] | None) -> tuple[int, int | None] | None:
    # Absent from documents stored before it was: their next event walks every kept moment.
    return None if doc is None else (doc["max"], doc.get("earnEvery"))


def _moments(docs: Iterable[Mapping[str, Any]]) -> tuple[StreakMoment, ...]:
    return tuple(StreakMoment(doc["at"], doc["zone"]) for doc in docs)
