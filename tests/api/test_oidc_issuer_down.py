"""A JWT whose issuer's keys cannot be fetched gets 503, not 401: the caller's credentials may
be fine and it should try again, not sign in anew."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.oidc import OidcIssuer
from app.cli.local_store import free_port
from app.config import Settings
from app.main import create_app


@pytest.fixture
def settings(settings: Settings) -> Settings:
    port = free_port()  # nothing listens there
    issuer = OidcIssuer(
        issuer=f"http://127.0.0.1:{port}",
        audience="image-service",
        jwks_uri=f"http://127.0.0.1:{port}/keys",
    )
    return replace(settings, oidc_issuers=(issuer,))


def _jwt(settings: Settings, **claims: Any) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = {"iss": settings.oidc_issuers[0].issuer, "aud": "image-service", "sub": "ci"}
    return jwt.encode(
        body | {"exp": time.time() + 60} | claims, key, algorithm="RS256", headers={"kid": "k"}
    )


async def test_an_unreachable_issuer_is_a_503_that_names_no_address(
    aiohttp_client: Any, settings: Settings, db: Any
) -> None:
    client = await aiohttp_client(create_app(settings, db=db))
    response = await client.get(
        "/v1/imagescount", headers={"Authorization": f"Bearer {_jwt(settings)}"}
    )
    body = await response.json()
    assert response.status == 503
    assert body["code"] == 14
    assert body["message"].startswith("cannot check the token now: JWT from http://127.0.0.1:")
    assert "signing keys could not be fetched" in body["message"]
    assert "/keys" not in body["message"]


async def test_a_jwt_of_another_issuer_is_still_a_401(
    aiohttp_client: Any, settings: Settings, db: Any
) -> None:
    client = await aiohttp_client(create_app(settings, db=db))
    token = _jwt(settings, iss="https://issuer.invalid")
    response = await client.get("/v1/imagescount", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
