"""JWT per RFC 8725 (issue 19, finding 8): a small leeway for clock skew, a maximum token
lifetime (JWT_MAX_AGE), strict claim types, no duplicate claims, bounded claim sizes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import clock
from core.settings import Settings
from tests.conftest import PROJECT, TEST_SECRET
from web import create_app
from web.auth import mint_token

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with clock.using(clock.frozen(NOW)):
        yield


@pytest.fixture(autouse=True)
def login(define: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed(payload: str, header: str = '{"alg":"HS256","typ":"JWT"}') -> str:
    """A token signed with the test key over exactly these JSON texts (duplicates allowed)."""
    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    digest = hmac.new(TEST_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(digest)}"


def token(**claims: Any) -> str:
    base: dict[str, Any] = {"project": PROJECT, "scope": "events:write", "iat": T, "exp": T + 300}
    base.update(claims)
    return signed(json.dumps({k: v for k, v in base.items() if v is not None}))


def post(client: Any, jwt_token: str) -> Any:
    return client.post(
        "/event",
        json={"eventId": "daily_login", "userId": "u"},
        headers={"Authorization": f"Bearer {jwt_token}"},
    )


def assert_401(response: Any) -> str:
    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == "unauthorized"
    message: str = response.json["error"]["message"]
    return message


def test_a_token_issued_a_few_seconds_ahead_is_accepted(client: Any) -> None:
    assert post(client, token(iat=T + 5, exp=T + 305)).status_code == 200


def test_a_token_expired_a_few_seconds_ago_is_still_accepted(client: Any) -> None:
    assert post(client, token(iat=T - 300, exp=T - 10)).status_code == 200


def test_skew_beyond_the_leeway_is_refused(client: Any) -> None:
    assert "not valid yet" in assert_401(post(client, token(iat=T + 120, exp=T + 400)))
    assert "expired" in assert_401(post(client, token(iat=T - 400, exp=T - 60)))
    assert "not valid yet" in assert_401(post(client, token(nbf=T + 120)))


def test_a_token_living_longer_than_jwt_max_age_is_refused(client: Any) -> None:
    assert "JWT_MAX_AGE" in assert_401(post(client, token(exp=10**20)))
    assert "JWT_MAX_AGE" in assert_401(post(client, token(exp=T + 366 * 86400)))
    assert post(client, token(exp=T + 364 * 86400)).status_code == 200


def test_jwt_max_age_is_configurable(settings: Settings, clients: Any) -> None:
    client = create_app(replace(settings, jwt_max_age=600), clients).test_client()

    assert post(client, token(exp=T + 600)).status_code == 200
    assert_401(post(client, token(exp=T + 601)))


def test_jwt_max_age_is_read_from_the_environment() -> None:
    assert Settings.from_env({"JWT_MAX_AGE": "3600"}).jwt_max_age == 3600
    assert Settings.from_env({}).jwt_max_age == 365 * 24 * 3600


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": str(T + 300)},
        {"iat": str(T)},
        {"exp": True},
        {"iat": False},
        {"exp": [T + 300]},
        {"nbf": "0"},
        {"scope": ["events:write"]},
        {"sub": 42},
        {"project": 7},
    ],
    ids=str,
)
def test_claims_of_the_wrong_type_are_refused(client: Any, claims: dict[str, Any]) -> None:
    assert_401(post(client, token(**claims)))


def test_an_infinite_expiry_is_refused(client: Any) -> None:
    payload = f'{{"project":"acme","scope":"events:write","iat":{T},"exp":Infinity}}'

    assert_401(post(client, signed(payload)))


@pytest.mark.parametrize(
    "payload",
    [
        '{"project":"acme","scope":"events:read","scope":"events:write","iat":%d,"exp":%d}',
        '{"project":"other","project":"acme","scope":"events:write","iat":%d,"exp":%d}',
        '{"project":"acme","scope":"events:write","exp":1,"iat":%d,"exp":%d}',
    ],
)
def test_duplicate_claims_are_refused(client: Any, payload: str) -> None:
    message = assert_401(post(client, signed(payload % (T, T + 300))))

    assert "twice" in message


def test_duplicate_header_fields_are_refused(client: Any) -> None:
    payload = f'{{"project":"acme","scope":"events:write","iat":{T},"exp":{T + 300}}}'

    assert_401(post(client, signed(payload, '{"alg":"HS256","alg":"HS256","typ":"JWT"}')))


def test_an_oversized_sub_is_refused_and_never_recorded(client: Any, db: Any) -> None:
    response = client.post(
        "/users/u/adjustments",
        json={"delta": 5, "reason": "x"},
        headers={"Authorization": f"Bearer {token(scope='users:write', sub='s' * 10000)}"},
    )

    assert "sub" in assert_401(response)
    assert db.audit.count_documents({}) == 0


def test_a_sub_of_128_characters_is_accepted(client: Any) -> None:
    assert post(client, token(sub="s" * 128)).status_code == 200


def test_mint_token_refuses_what_decoding_would_refuse(settings: Settings) -> None:
    keys = settings.signing_keys()
    with pytest.raises(ValueError, match="sub"):
        mint_token(keys, PROJECT, ["admin"], subject="s" * 129)
    with pytest.raises(ValueError, match="JWT_MAX_AGE"):
        mint_token(keys, PROJECT, ["admin"], ttl=400 * 86400)
    assert mint_token(keys, PROJECT, ["admin"], ttl=timedelta(days=30).total_seconds().__int__())
