"""GET and PUT /admin/settings (scope `admin`): the project's settings
(rules.stores.project_settings)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from core import clock
from rules.stores.project_settings import USERGROUP_SOURCES, ProjectSettingsStore
from web.auth import current_principal, require_scope
from web.blueprint import Blueprint
from web.context import database
from web.schemas.fields import EditableSchema, IsoMillis, ResponseSchema, to_millis

blp = Blueprint(
    "settings",
    __name__,
    url_prefix="/admin/settings",
    description="The project's settings (scope admin)",
)


class ProjectSettingsSchema(EditableSchema):
    usergroupSource = fields.String(
        load_default="metadata",
        validate=validate.OneOf(USERGROUP_SOURCES),
        metadata={
            "description": "Where a user's usergroup may come from: \"metadata\" (an event's "
            '`metadata.usergroup` sets it) or "api" (only PUT /users/{userId}/usergroup does, '
            "so app tokens cannot raise a user's groupRewards multiplier)",
            "example": "api",
        },
    )
    updatedAt = IsoMillis(
        dump_only=True, allow_none=True, metadata={"type": "string", "format": "date-time"}
    )


class SettingsResponseSchema(ResponseSchema):
    usergroupSource = fields.String()
    updatedAt = IsoMillis(allow_none=True, metadata={"type": "string", "format": "date-time"})


@blp.route("", endpoint="settings")
class Settings(MethodView):
    @require_scope("admin")
    @blp.response(200, SettingsResponseSchema)
    @blp.errors(401, 403, 429)
    def get(self) -> dict[str, Any]:
        """Get the project's settings"""
        return ProjectSettingsStore(database()).document(current_principal().project)

    @require_scope("admin")
    @blp.arguments(ProjectSettingsSchema, example={"usergroupSource": "api"})
    @blp.response(200, SettingsResponseSchema)
    @blp.errors(401, 403, 413, 429)
    def put(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Replace the project's settings

        `usergroupSource`: "metadata" (default) lets events set the user's usergroup through
        `metadata.usergroup`; "api" ignores that field (the event is still recorded) and
        leaves the usergroup to PUT /users/{userId}/usergroup. Applies to the next event.
        """
        store = ProjectSettingsStore(database())
        return store.save(current_principal().project, payload, to_millis(clock.now()))
