"""The reward engine's domain errors (a branch of core.errors.LaurelError). Only web/ turns
them into HTTP status codes (web.errors.DOMAIN_ERRORS)."""

from __future__ import annotations

from core.errors import LaurelError


class RulesError(LaurelError):
    """Base of every error the reward engine raises on purpose."""


class EventNotFound(RulesError):
    """The eventId is not defined in the project, or it is inactive."""


class DefinitionNotFound(RulesError):
    """No event, streak or other definition with that id in the project."""


class InvalidEvent(RulesError):
    """The event breaks a rule of its definition (for example its metadataSchema)."""


class ImportNotAllowed(RulesError):
    """An event older than the import horizon, sent without the right to import."""


class InvalidDefinition(RulesError):
    """A definition that cannot be compiled; `details` maps field paths to messages."""


class UpdateContention(RulesError):
    """A user's document kept changing under us; the caller may retry the request."""


class IdempotencyConflict(RulesError):
    """An idempotency key sent again with a different request."""


class UserNotFound(RulesError):
    """No user with that userId in the project (never seen, or erased)."""


class InsufficientBalance(RulesError):
    """A manual adjustment would take the user's balance below 0."""


class LeaderboardUnavailable(RulesError):
    """Redis, which holds the leaderboards, did not answer; the caller may retry."""
