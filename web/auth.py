"""Bearer JWT authentication and scopes (docs/api.md#auth-and-tenancy).

HS256 only (the algorithm is pinned, so `alg: none` or RS/HS confusion cannot pass); `exp` and
`iat` are required; the `kid` header picks a key of JWT_KEYS. The `project` claim is the tenant
every document is scoped by; `admin` implies every other scope.

Following RFC 8725 (JWT best current practices): times are judged against Laurel's clock with
LEEWAY seconds for clocks that disagree a little; a token may live at most JWT_MAX_AGE seconds
(`exp - iat`); claims have strict types (numbers for times, not strings or booleans) and
bounded sizes; a token whose header or payload names a claim twice is refused rather than
read one way here and another way by some other verifier.
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import jwt
from flask_smorest import abort

from core import clock
from core.settings import Settings, SigningKeys
from web.context import app_context, app_state, request_context
from web.schemas.fields import IDENTIFIER

ALGORITHM = "HS256"
SCOPES = ("events:write", "events:import", "users:read", "users:write", "reports:read", "admin")
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="laurel"'}
LEEWAY = 30  # seconds: clocks of issuer and server may disagree this much
MAX_SUBJECT = 128  # characters of `sub`, the actor recorded on support actions
MAX_SCOPE = 512  # characters of `scope`
DEFAULT_MAX_AGE = Settings.jwt_max_age  # JWT_MAX_AGE when unset

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
    max_age: int = DEFAULT_MAX_AGE,
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
    if ttl > max_age:
        raise ValueError(f"ttl may be at most {max_age} seconds (JWT_MAX_AGE)")
    if subject:
        if subject_problem(subject):
            raise ValueError(f"sub {subject_problem(subject)}")
        claims["sub"] = subject
    kid, secret = keys.for_signing()
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers=headers)


def subject_problem(subject: str) -> str | None:
    if 1 <= len(subject) <= MAX_SUBJECT and subject.isprintable():
        return None
    return f"must be 1-{MAX_SUBJECT} printable characters"


# Tokens verified lately: token -> (kid, the secret that verified it, its claims, principal).
# An app's callers send the same few tokens over and over; their signature, header and claims
# need checking once, their times (on Laurel's clock) at every use.
VERIFIED_TOKENS = 1024
_verified: OrderedDict[str, tuple[str | None, str, dict[str, Any], Principal]] = OrderedDict()
_verified_lock = threading.Lock()


def decode_token(token: str, keys: SigningKeys, max_age: int = DEFAULT_MAX_AGE) -> Principal:
    with _verified_lock:
        known = _verified.get(token)
        if known is not None:
            _verified.move_to_end(token)
    # Only if these keys would verify it with the same secret (another app may hold others).
    if known is not None and keys.for_verification(known[0]) == known[1]:
        _check_times(known[2], max_age)
        return known[3]
    kid, secret, claims, principal = _verify(token, keys, max_age)
    with _verified_lock:
        _verified[token] = (kid, secret, claims, principal)
        while len(_verified) > VERIFIED_TOKENS:
            _verified.popitem(last=False)
    return principal


def _verify(
    token: str, keys: SigningKeys, max_age: int
) -> tuple[str | None, str, dict[str, Any], Principal]:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        raise InvalidToken("malformed token") from None
    if kid is not None and (not isinstance(kid, str) or len(kid) > 64):
        raise InvalidToken("invalid token")
    secret = keys.for_verification(kid if isinstance(kid, str) else None)
    if secret is None:
        raise InvalidToken("token signed with an unknown key")
    try:
        # Times are judged against Laurel's clock below, not PyJWT's own reading of the system's.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "require": ["exp", "iat"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidTokenError:
        raise InvalidToken("invalid token") from None
    _refuse_duplicate_claims(token)
    _check_times(claims, max_age)
    project, scope, subject = claims.get("project"), claims.get("scope", ""), claims.get("sub")
    if not isinstance(project, str) or not IDENTIFIER.fullmatch(project):
        raise InvalidToken("token has no valid project claim")
    if not isinstance(scope, str) or len(scope) > MAX_SCOPE:
        raise InvalidToken("invalid token")
    if subject is not None and (not isinstance(subject, str) or subject_problem(subject)):
        raise InvalidToken(f"token's sub claim {subject_problem(str(subject))}")
    principal = Principal(project=project, scopes=frozenset(scope.split()), subject=subject)
    return (kid if isinstance(kid, str) else None), secret, claims, principal


def _refuse_duplicate_claims(token: str) -> None:
    """PyJWT keeps the last of two equal names; another verifier might keep the first."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise InvalidToken("token names a claim twice")
        return dict(pairs)

    for segment in token.split(".")[:2]:
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
            json.loads(raw, object_pairs_hook=unique)
        except (binascii.Error, ValueError, RecursionError):
            raise InvalidToken("invalid token") from None


def _check_times(claims: dict[str, Any], max_age: int) -> None:
    issued, expires = claims["iat"], claims["exp"]
    times = [issued, expires] + ([claims["nbf"]] if "nbf" in claims else [])
    for value in times:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidToken("invalid token: exp, iat and nbf must be numbers")
    now = clock.timestamp()
    if expires <= now - LEEWAY:
        raise InvalidToken("token expired")
    if issued > now + LEEWAY or claims.get("nbf", issued) > now + LEEWAY:
        raise InvalidToken("token not valid yet")
    if expires - issued > max_age:
        raise InvalidToken(f"token lives longer than the {max_age} seconds allowed (JWT_MAX_AGE)")


def _request_principal() -> Principal | InvalidToken:
    """Decode the request's bearer token once per request; the failure is remembered too."""
    state = app_context().g  # (this runs several times per request)
    principal: Principal | InvalidToken | None = state.get("principal")
    if principal is None:
        # `request.headers.get("Authorization", "")`, read from the environ directly
        header = request_context().request.environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            principal = InvalidToken("missing bearer token")
        else:
            try:
                settings = app_state().settings
                principal = decode_token(
                    token.strip(), settings.signing_keys(), settings.jwt_max_age
                )
            except InvalidToken as error:
                principal = error
        state.principal = principal
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
        return guarded  # type: ignore[return-value]  # functools.wraps(view) keeps its signature

    return decorator
