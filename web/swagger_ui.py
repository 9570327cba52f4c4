"""Swagger UI for /docs, served by Laurel itself so the API documentation works offline.

The assets come from the `swagger-ui-bundle` package (Swagger UI's own distribution files,
Apache-2.0, pinned in setup.cfg), not from a CDN. flask-smorest renders /docs and loads
`swagger-ui-bundle.js`, `swagger-ui-standalone-preset.js` and `swagger-ui.css` from
OPENAPI_SWAGGER_UI_URL, which points here.
"""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue
from swagger_ui_bundle import swagger_ui_path

URL_PREFIX = "/docs/assets"
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"})

bp = Blueprint("swagger_ui", __name__, url_prefix=URL_PREFIX)


@bp.get("/<name>")
def asset(name: str) -> ResponseReturnValue:
    if name not in ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, max_age=24 * 3600)
