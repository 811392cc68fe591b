"""Every route × every kind of caller → the expected status, from one table.

A route added to app.routes.ROUTES without a row here fails `test_every_route_has_a_row`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest

from app.auth.oidc_config import OidcIssuer
from app.auth.permissions import ADMIN, ANALYST, CONTINUOUS_INTEGRATION, NONE
from app.config import Settings
from app.routes import ROUTES
from tests.support.access import bearer, issue_expired_token, revoke, unsigned_jwt

ROLES = (ADMIN, ANALYST, CONTINUOUS_INTEGRATION, NONE)
# Callers whose credentials are refused: each gets 401 wherever credentials are needed.
REFUSED = ("no token", "revoked token", "expired token", "JWT of another issuer", "garbage")
EVERYONE = frozenset(ROLES + REFUSED)
ANY_ROLE = frozenset(ROLES)
IMAGE_READERS = frozenset({ADMIN, ANALYST, CONTINUOUS_INTEGRATION})
IMAGE_WRITERS = frozenset({ADMIN, CONTINUOUS_INTEGRATION})
READERS = frozenset({ADMIN, ANALYST})  # everything READ
ADMINS = frozenset({ADMIN})


@dataclass(frozen=True)
class Case:
    """A request to one route, who may make it, and the status it gets when allowed."""

    allowed: frozenset[str]
    status: int
    path: str = ""  # the route's own path when empty
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None


# Reference §1.1 and upstream's APITokenService; bad input where a success would change state
# that other rows rely on (the status proves the permission check passed).
TABLE: dict[tuple[str, str], Case] = {
    ("GET", "/v1/imagescount"): Case(IMAGE_READERS, 200),
    ("GET", "/v1/images"): Case(IMAGE_READERS, 200),
    ("GET", "/v1/images/{id}"): Case(IMAGE_READERS, 404, path="/v1/images/sha256:00"),
    ("DELETE", "/v1/images"): Case(IMAGE_WRITERS, 200, params={"query.query": "Image:*"}),
    ("GET", "/v1/export/images"): Case(IMAGE_READERS, 200),
    ("POST", "/v1/images/scan"): Case(IMAGE_WRITERS, 400, json={"imageName": ""}),
    ("GET", "/v1/images/cache/invalidate"): Case(IMAGE_WRITERS, 200),
    ("POST", "/v1/images/cache/invalidate"): Case(IMAGE_WRITERS, 200),
    ("GET", "/v1/watchedimages"): Case(READERS, 200),
    ("POST", "/v1/watchedimages"): Case(ADMINS, 200, json={"name": ""}),
    ("DELETE", "/v1/watchedimages"): Case(ADMINS, 200, params={"name": "nothing"}),
    ("POST", "/v1/apitokens/generate"): Case(ADMINS, 200, json={"name": "m", "roles": [NONE]}),
    ("GET", "/v1/apitokens/generate/allowed-roles"): Case(READERS, 200),
    ("GET", "/v1/apitokens"): Case(READERS, 200, params={"revoked": "false"}),
    ("GET", "/v1/apitokens/{id}"): Case(READERS, 404, path="/v1/apitokens/nothing"),
    ("PATCH", "/v1/apitokens/revoke/{id}"): Case(ADMINS, 404, path="/v1/apitokens/revoke/no"),
    ("GET", "/v1/auth/status"): Case(ANY_ROLE, 200),
    ("GET", "/v1/mypermissions"): Case(ANY_ROLE, 200),
    ("GET", "/v1/roles"): Case(READERS, 200),
    ("POST", "/v1/roles/{name}"): Case(ADMINS, 200, path="/v1/roles/custom", json={}),
    ("GET", "/v1/ping"): Case(EVERYONE, 200),
    ("GET", "/livez"): Case(EVERYONE, 200),
    ("GET", "/readyz"): Case(EVERYONE, 200),
    ("GET", "/metrics"): Case(EVERYONE, 200),
}

OTHER_ISSUER = "https://issuer.invalid"


def test_every_route_has_a_row() -> None:
    assert {(method, path) for method, path, *_ in ROUTES} == set(TABLE)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # an issuer is configured, so JWTs take the OIDC path (and one of another issuer is refused)
    issuer = OidcIssuer(issuer="https://issuer.example", audience="image-service")
    return replace(settings, oidc_issuers=(issuer,))


@pytest.fixture
async def callers(settings: Settings, db: Any, token_for: Any) -> dict[str, dict[str, str]]:
    """The headers each kind of caller sends."""
    headers = {role: bearer(await token_for(role, name=role)) for role in ROLES}
    foreign = {"iss": OTHER_ISSUER, "aud": "image-service", "sub": "x", "exp": time.time() + 60}
    return {
        **headers,
        "no token": {},
        "revoked token": bearer(await _revoked(settings, db, token_for)),
        "expired token": bearer(await issue_expired_token(db)),
        "JWT of another issuer": bearer(unsigned_jwt(foreign)),
        "garbage": {"Authorization": "Bearer not-a-token"},
    }


async def _revoked(settings: Settings, db: Any, token_for: Any) -> str:
    name = f"revoked-{uuid.uuid4().hex[:6]}"
    token = await token_for(ADMIN, name=name)
    await revoke(db, settings, name)
    return str(token)


@pytest.mark.parametrize(("method", "route"), list(TABLE))
async def test_route_answers_each_caller_as_its_permissions_say(
    method: str,
    route: str,
    anonymous: aiohttp.ClientSession,
    callers: dict[str, dict[str, str]],
) -> None:
    case = TABLE[(method, route)]
    got: dict[str, int] = {}
    for caller, headers in callers.items():
        async with anonymous.request(
            method, case.path or route, params=case.params, json=case.json, headers=headers
        ) as response:
            got[caller] = response.status
            if response.status in (401, 403):
                await _check_refusal(response, headers)
    expected = {
        caller: case.status if caller in case.allowed else (401 if caller in REFUSED else 403)
        for caller in callers
    }
    assert got == expected


async def _check_refusal(response: aiohttp.ClientResponse, headers: dict[str, str]) -> None:
    body = await response.json()
    if response.status == 403:
        assert body["code"] == 7
        assert body["message"].startswith('not authorized: "READ')
        return
    assert body["code"] == 16
    assert body["error"] == body["message"]
    challenge = 'Bearer realm="image-service"'
    if headers:
        challenge += ', error="invalid_token"'
    assert response.headers["WWW-Authenticate"] == challenge
