"""The side effects that run when an event's (or an adjustment's) records are written
(rules.effects.Effect): each idempotent, each allowed to fail without failing the
request."""

from __future__ import annotations

from core.clients import Clients
from jobs.webhooks import dispatch_effect
from rules.effects import Effect
from rules.stores.breaker import breaker_for
from rules.usecases.leaderboards import leaderboard_effect


def effects_for(clients: Clients) -> list[Effect]:
    return [
        dispatch_effect(clients),
        leaderboard_effect(lambda: clients.boards_in_request, breaker_for(clients)),
    ]
