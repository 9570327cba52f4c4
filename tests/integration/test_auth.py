"""Authentication and scopes (docs/api.md#auth-and-tenancy): 401 for every untrustworthy token, 403
for scope."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import jwt
import pytest

from core import clock
from core.settings import Settings
from tests.conftest import PROJECT, TEST_SECRET
from web import create_app
from web.auth import mint_token

OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-9876543210"


@pytest.fixture(autouse=True)
def login_event(define: Any) -> None:
    define("events", "daily_login", {"points": {"fixed": 10}})


def post(client: Any, token: str | None, scheme: str = "Bearer") -> Any:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return client.post("/event", json={"eventId": "daily_login", "userId": "u"}, headers=headers)


def claims(**overrides: Any) -> dict[str, Any]:
    now = clock.now()
    base = {
        "project": PROJECT,
        "scope": "events:write",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def assert_401(response: Any) -> None:
    assert response.status_code == 401
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_is_accepted(client: Any) -> None:
    assert post(client, jwt.encode(claims(), TEST_SECRET, algorithm="HS256")).status_code == 200


def test_missing_header_is_401(client: Any) -> None:
    assert_401(post(client, None))


def test_wrong_scheme_is_401(client: Any) -> None:
    token = jwt.encode(claims(), TEST_SECRET, algorithm="HS256")
    assert_401(post(client, token, scheme="Basic"))


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "Bearer"])
def test_malformed_token_is_401(client: Any, token: str) -> None:
    assert_401(post(client, token))


def test_expired_token_is_401(client: Any) -> None:
    past = clock.now() - timedelta(hours=2)
    token = jwt.encode(
        claims(iat=past, exp=past + timedelta(hours=1)), TEST_SECRET, algorithm="HS256"
    )
    response = post(client, token)
    assert_401(response)
    assert "expired" in response.json["error"]["message"]


def test_token_signed_with_another_key_is_401(client: Any) -> None:
    assert_401(post(client, jwt.encode(claims(), OTHER_SECRET, algorithm="HS256")))


def test_alg_none_token_is_401(client: Any) -> None:
    assert_401(post(client, unsigned(claims())))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_hs512_token_with_the_right_secret_is_401(client: Any) -> None:
    # The algorithm is pinned: the right secret under another algorithm is not enough.
    assert_401(post(client, jwt.encode(claims(), TEST_SECRET, algorithm="HS512")))


@pytest.mark.parametrize("missing", ["exp", "iat"])
def test_token_without_exp_or_iat_is_401(client: Any, missing: str) -> None:
    assert_401(post(client, jwt.encode(claims(**{missing: None}), TEST_SECRET, algorithm="HS256")))


@pytest.mark.parametrize("project", [None, "", 42, "has space"])
def test_token_without_a_valid_project_is_401(client: Any, project: Any) -> None:
    token = jwt.encode(
        {**claims(), "project": project} if project is not None else claims(project=None),
        TEST_SECRET,
        algorithm="HS256",
    )
    assert_401(post(client, token))


def test_token_without_the_scope_is_403(client: Any, make_token: Any) -> None:
    response = post(client, make_token("users:read"))

    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert "events:write" in response.json["error"]["message"]


def test_admin_scope_implies_events_write(client: Any, make_token: Any) -> None:
    assert post(client, make_token("admin")).status_code == 200


def test_admin_api_needs_admin_scope(client: Any, make_token: Any) -> None:
    response = client.get(
        "/admin/events", headers={"Authorization": f"Bearer {make_token('events:write')}"}
    )

    assert response.status_code == 403


def test_unauthenticated_request_is_401_before_body_validation(client: Any) -> None:
    response = client.post("/event", json={"nonsense": True})

    assert_401(response)


def test_key_rotation_accepts_old_and_new_kids(settings: Settings, clients: Any) -> None:
    new, old = "k2", "k1"
    rotated = replace(settings, jwt_secret=None, jwt_keys={new: OTHER_SECRET, old: TEST_SECRET})
    app = create_app(rotated, clients)
    client = app.test_client()
    client.put(
        "/admin/events/daily_login",
        json={"points": {"fixed": 1}},
        headers={
            "Authorization": "Bearer " + mint_token(rotated.signing_keys(), PROJECT, ["admin"])
        },
    )
    old_token = jwt.encode(claims(), TEST_SECRET, algorithm="HS256", headers={"kid": old})
    minted = mint_token(rotated.signing_keys(), PROJECT, ["events:write"])

    assert jwt.get_unverified_header(minted)["kid"] == new
    assert post(client, minted).status_code == 200
    assert post(client, old_token).status_code == 200
    assert_401(
        post(
            client, jwt.encode(claims(), TEST_SECRET, algorithm="HS256", headers={"kid": "unknown"})
        )
    )
    # A token signed with the old key but claiming the new kid is rejected.
    assert_401(
        post(client, jwt.encode(claims(), TEST_SECRET, algorithm="HS256", headers={"kid": new}))
    )


def test_a_token_accepted_before_still_expires_on_laurels_clock(client: Any) -> None:
    token = jwt.encode(claims(), TEST_SECRET, algorithm="HS256")
    assert post(client, token).status_code == 200  # verified once, then remembered

    with clock.using(clock.frozen(clock.now() + timedelta(minutes=6))):
        assert_401(post(client, token))
    assert post(client, token).status_code == 200


def test_a_token_accepted_by_one_app_is_refused_by_an_app_with_other_keys(
    client: Any, settings: Settings, clients: Any
) -> None:
    token = jwt.encode(claims(), TEST_SECRET, algorithm="HS256")
    assert post(client, token).status_code == 200

    other = create_app(replace(settings, jwt_secret=OTHER_SECRET), clients).test_client()
    assert_401(post(other, token))
