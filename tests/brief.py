"""The product brief's examples and the response shape of docs/api.md#post-event, shared by the
tests."""

from __future__ import annotations

BRIEF_LOGIN_METADATA = {"platform": "ios", "appVersion": "2.1.4", "sessionLength": 183}
BRIEF_PURCHASE_METADATA = {
    "platform": "web",
    "transactionId": "tx_78912345",
    "orderValue": 129.99,
    "currency": "USD",
    "itemCount": 3,
    "paymentMethod": "credit_card",
}
BRIEF_LEVEL_METADATA = {
    "levelId": "world_2_level_5",
    "difficulty": "normal",
    "timeToComplete": 347,
    "attempts": 2,
    "starsEarned": 3,
    "scoreAchieved": 12850,
    "powerupsUsed": 2,
    "platform": "ios",
}
# The bodies of the brief's three curl examples, verbatim.
BRIEF_EXAMPLES = [
    {"eventId": "daily_login", "userId": "user123"},
    {"eventId": "purchase_completed", "userId": "user456", "metadata": BRIEF_PURCHASE_METADATA},
    {"eventId": "level_completed", "userId": "gamer789", "metadata": BRIEF_LEVEL_METADATA},
]

RESPONSE_FIELDS = {
    "eventId",
    "userId",
    "pointsAwarded",
    "totalPointsAwarded",
    "balance",
    "timestamp",
    "rewarded",
    "reason",
    "streaks",
    "challenges",
    "level",
    "badges",
}
STREAK_FIELDS = {
    "streakId",
    "currentCount",
    "longestCount",
    "lastUpdate",
    "milestoneReached",
    "pointsAwarded",
    "freezesUsed",
}
