"""Admin API for definitions (docs/api.md#rules-admin-api), scope `admin`: /admin/events,
/admin/streaks, /admin/challenges, /admin/funnels (docs/api.md#insights) and /admin/levels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema

from core import clock
from rules.stores.definitions import DefinitionCollection, DefinitionStore
from web.auth import current_principal, require_scope
from web.blueprint import Blueprint
from web.context import database
from web.schemas.definitions import (
    ChallengeDefinitionListSchema,
    ChallengeDefinitionSchema,
    EventDefinitionListSchema,
    EventDefinitionSchema,
    LevelTableSchema,
    StreakDefinitionListSchema,
    StreakDefinitionSchema,
)
from web.schemas.fields import identifier_problem, to_millis
from web.schemas.insights import FunnelDefinitionListSchema, FunnelDefinitionSchema


def definition_blueprint(
    name: str,
    kind: str,
    id_field: str,
    schema: type[Schema],
    list_schema: type[Schema],
    collection: Callable[[DefinitionStore], DefinitionCollection[Any]],
) -> Blueprint:
    blp = Blueprint(
        name, __name__, url_prefix=f"/admin/{kind}s", description=f"Define {kind}s (scope admin)"
    )

    def definitions() -> DefinitionCollection[Any]:
        return collection(DefinitionStore(database()))

    @blp.route("", endpoint="list")
    class Definitions(MethodView):
        @require_scope("admin")
        @blp.response(200, list_schema)
        @blp.errors(401, 403, 429)
        @blp.doc(summary=f"List the project's {kind} definitions")
        def get(self) -> dict[str, Any]:
            return {"items": definitions().list_all(current_principal().project)}

    @blp.route(f"/<{id_field}>", endpoint="one")
    class Definition(MethodView):
        @require_scope("admin")
        @blp.response(200, schema)
        @blp.errors(401, 403, 404, 429)
        @blp.doc(summary=f"Get one {kind} definition")
        def get(self, **path: str) -> dict[str, Any]:
            return definitions().get(current_principal().project, path[id_field])

        @require_scope("admin")
        @blp.arguments(schema)
        @blp.response(200, schema)
        @blp.errors(401, 403, 413, 429)
        @blp.doc(summary=f"Create or replace a {kind} definition")
        def put(self, body: dict[str, Any], **path: str) -> dict[str, Any]:
            definition_id = path[id_field]
            problem = identifier_problem(definition_id)
            if problem:
                abort(400, errors={id_field: [problem]})
            if body.pop(id_field, definition_id) != definition_id:
                abort(400, errors={id_field: ["must match the id in the path"]})
            return definitions().save(
                current_principal().project, definition_id, body, to_millis(clock.now())
            )

        @require_scope("admin")
        @blp.response(200, schema)
        @blp.errors(401, 403, 404, 429)
        @blp.doc(summary=f"Deactivate a {kind} definition (history keeps it)")
        def delete(self, **path: str) -> dict[str, Any]:
            return definitions().deactivate(
                current_principal().project, path[id_field], to_millis(clock.now())
            )

    return blp


def admin_blueprints() -> list[Blueprint]:
    return [
        definition_blueprint(
            "admin_events",
            "event",
            "eventId",
            EventDefinitionSchema,
            EventDefinitionListSchema,
            lambda store: store.events,
        ),
        definition_blueprint(
            "admin_streaks",
            "streak",
            "streakId",
            StreakDefinitionSchema,
            StreakDefinitionListSchema,
            lambda store: store.streaks,
        ),
        definition_blueprint(
            "admin_challenges",
            "challenge",
            "challengeId",
            ChallengeDefinitionSchema,
            ChallengeDefinitionListSchema,
            lambda store: store.challenges,
        ),
        definition_blueprint(
            "admin_funnels",
            "funnel",
            "funnelId",
            FunnelDefinitionSchema,
            FunnelDefinitionListSchema,
            lambda store: store.funnels,
        ),
        levels_blp,
    ]


levels_blp = Blueprint(
    "admin_levels", __name__, url_prefix="/admin/levels", description="Define levels (scope admin)"
)


@levels_blp.route("", endpoint="table")
class Levels(MethodView):
    @require_scope("admin")
    @levels_blp.response(200, LevelTableSchema)
    @levels_blp.errors(401, 403, 429)
    def get(self) -> dict[str, Any]:
        """Get the project's level table (empty when none is defined)"""
        return DefinitionStore(database()).levels.get(current_principal().project)

    @require_scope("admin")
    @levels_blp.arguments(
        LevelTableSchema,
        example={
            "levels": [
                {"level": 1, "name": "Bronze", "minPoints": 0},
                {"level": 2, "name": "Silver", "minPoints": 500},
            ]
        },
    )
    @levels_blp.response(200, LevelTableSchema)
    @levels_blp.errors(401, 403, 413, 429)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the project's level table

        A user's level is the highest level whose minPoints their lifetime points reach
        (level 0, without a name, below the first). An empty list removes levels.
        """
        return DefinitionStore(database()).levels.save(
            current_principal().project, body, to_millis(clock.now())
        )
