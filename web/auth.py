"""Bearer JWT authentication and scopes (DESIGN §2).

HS256 only (the algorithm is pinned, so `alg: none` or RS/HS confusion cannot pass); `exp` and
`iat` are required; the `kid` header picks a key of JWT_KEYS. The `project` claim is the tenant
every document is scoped by; `admin` implies every other scope.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import jwt
from flask import g, request
from flask_smorest import abort

from core import clock
from core.settings import SigningKeys
from web.context import app_state
from web.schemas.fields import IDENTIFIER

ALGORITHM = "HS256"
SCOPES = ("events:write", "events:import", "users:read", "users:write", "reports:read", "admin")
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="laurel"'}

View = TypeVar("View", bound=Callable[..., Any])


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, without leaking key material."""


@dataclass(frozen=True)
class Principal:
    project: str
    scopes: frozenset[str]
    subject: str | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def mint_token(
    keys: SigningKeys,
    project: str,
    scopes: Iterable[str],
    *,
    subject: str | None = None,
    ttl: int = 3600,
    now: datetime | None = None,
) -> str:
    scopes = list(scopes)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {' '.join(SCOPES)}")
    if not IDENTIFIER.fullmatch(project):
        raise ValueError("project must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    issued = now or clock.now()
    claims: dict[str, Any] = {
        "project": project,
        "scope": " ".join(scopes),
        "iat": issued,
        "exp": issued + timedelta(seconds=ttl),
    }
    if subject:
        claims["sub"] = subject
    kid, secret = keys.for_signing()
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers=headers)


def decode_token(token: str, keys: SigningKeys) -> Principal:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        raise InvalidToken("malformed token") from None
    secret = keys.for_verification(kid if isinstance(kid, str) else None)
    if secret is None:
        raise InvalidToken("token signed with an unknown key")
    try:
        # Times are judged against Laurel's clock below, not PyJWT's own reading of the system's.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidTokenError:
        raise InvalidToken("invalid token") from None
    _check_times(claims)
    project, scope, subject = claims.get("project"), claims.get("scope", ""), claims.get("sub")
    if not isinstance(project, str) or not IDENTIFIER.fullmatch(project):
        raise InvalidToken("token has no valid project claim")
    if not isinstance(scope, str) or (subject is not None and not isinstance(subject, str)):
        raise InvalidToken("invalid token")
    return Principal(project=project, scopes=frozenset(scope.split()), subject=subject)


def _check_times(claims: dict[str, Any]) -> None:
    issued, expires = claims["iat"], claims["exp"]
    for value in (issued, expires):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidToken("invalid token")
    now = clock.timestamp()
    if expires <= now:
        raise InvalidToken("token expired")
    if issued > now:
        raise InvalidToken("invalid token")


def _request_principal() -> Principal | InvalidToken:
    """Decode the request's bearer token once per request; the failure is remembered too."""
    if "principal" not in g:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            g.principal = InvalidToken("missing bearer token")
        else:
            try:
                g.principal = decode_token(token.strip(), app_state().settings.signing_keys())
            except InvalidToken as error:
                g.principal = error
    principal: Principal | InvalidToken = g.principal
    return principal


def principal_or_none() -> Principal | None:
    principal = _request_principal()
    return principal if isinstance(principal, Principal) else None


def current_principal() -> Principal:
    """The authenticated caller; aborts with 401 when there is none."""
    principal = _request_principal()
    if not isinstance(principal, Principal):
        abort(401, message=f"Unauthorized: {principal}", headers=BEARER_CHALLENGE)
    return principal


def require_scope(scope: str) -> Callable[[View], View]:
    """Let the view run only for a valid token holding `scope` (401 / 403 otherwise)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_principal().allows(scope):
                abort(403, message=f"Forbidden: this token lacks the {scope!r} scope")
            return view(*args, **kwargs)

        # The docstring is the operation's OpenAPI description: it names the scope it needs.
        note = f"Requires the `{scope}` scope."
        if not view.__doc__:  # documented with blp.doc(summary=...) alone
            manual = guarded.__dict__.setdefault("_apidoc", {}).setdefault("manual_doc", {})
            manual.setdefault("description", note)
        elif f"`{scope}` scope" not in view.__doc__:
            guarded.__doc__ = inspect.cleandoc(view.__doc__) + "\n\n" + note
        return guarded  # type: ignore[return-value]

    return decorator
