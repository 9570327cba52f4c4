"""User ids in paths: a userId holding "/" is reached as `%2F` (`GET /users/a%2Fb`).

Servers decode `%2F` to "/" before routing, so `/users/a%2Fb` would look for a user "a" and
a sub-resource "b". Old user ids may hold "/" (POST /event refuses it in new ones now), so the
raw path is read again here: an encoded slash inside a segment is carried through routing as
SLASH, a character no userId can hold (it is not printable), and the `user` converter turns
it back into "/".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from flask import Flask
from werkzeug.routing import BaseConverter

SLASH = "\ue000"
_ENCODED_SLASH = b"%2f"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class UserIdConverter(BaseConverter):
    """`<user:userId>`: one path segment, "/" included when the client encoded it."""

    def to_python(self, value: str) -> str:
        return value.replace(SLASH, "/")

    def to_url(self, value: Any) -> str:
        return quote(str(value), safe="")


class EncodedSlashes:
    """WSGI middleware: PATH_INFO rebuilt from the raw request URI when it holds `%2F`."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        path = raw.split("?", 1)[0]
        if (
            path.startswith("/")
            and not environ.get("SCRIPT_NAME")
            and _ENCODED_SLASH in path.lower().encode("latin-1", "replace")
        ):
            segments = (
                unquote_to_bytes(segment).replace(b"/", SLASH.encode())
                for segment in path.split("/")
            )
            # PATH_INFO holds the path's bytes as latin-1 (PEP 3333); werkzeug decodes UTF-8.
            environ["PATH_INFO"] = b"/".join(segments).decode("latin-1")
        return self.app(environ, start_response)


def init_user_paths(app: Flask) -> None:
    """Call before registering the blueprints whose routes use `<user:userId>`."""
    app.url_map.converters["user"] = UserIdConverter
    app.wsgi_app = EncodedSlashes(app.wsgi_app)  # type: ignore[method-assign]  # Flask's middleware idiom
