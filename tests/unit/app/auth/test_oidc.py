"""JWT checks decided before any key is fetched, and the key cache driven by a fake fetch.

No network here (the unit guard fails a connection): a token refused below is refused without
contacting its issuer. Tokens verified end to end against a JWKS on loopback are in
tests/integration/auth/test_oidc_jwks.py.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from app.auth.oidc import InvalidJwt, OidcIssuer, OidcVerifier
from app.auth.oidc_jwks import IssuerKeys, KeyUnavailable

ISSUER = OidcIssuer(
    issuer="https://idp.example.com", audience="image-service", jwks_uri="https://idp/keys"
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims))}.{signature}"


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER.issuer, "aud": "image-service", "sub": "bot", "exp": now + 60} | extra


@pytest.mark.parametrize(
    ("token", "looks"),
    [
        ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", True),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", True),
        ("a-b_c.d.e", True),
        ("isv_0123456789abcdef", False),
        ("a.b", False),
        ("a.b.c.d", False),
        (".b.c", False),
        ("a..c", False),
        ("a.b.c\n", False),
        ("a+b.c/d.e=", False),
        ("", False),
        ("a." + "b" * (16 << 10) + ".c", False),
    ],
)
def test_looks_like_jwt(token: str, looks: bool) -> None:
    assert OidcVerifier.looks_like_jwt(token) is looks


@pytest.fixture
async def verifier() -> AsyncIterator[OidcVerifier]:
    verifier = OidcVerifier([ISSUER])
    yield verifier
    await verifier.close()


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (unsigned({"alg": "none"}, claims()), "JWT algorithm 'none' is not accepted"),
        (unsigned({"alg": "HS256", "kid": "k"}, claims(), "c2ln"), "'HS256' is not accepted"),
        (unsigned({"alg": "HS512"}, claims(), "c2ln"), "'HS512' is not accepted"),
        (unsigned({"alg": ["RS256"]}, claims(), "c2ln"), "JWT algorithm ['RS256'] is not"),
        (unsigned({"kid": "k"}, claims(), "c2ln"), "JWT algorithm None is not accepted"),
        (
            unsigned({"alg": "RS256", "kid": "k"}, claims(iss="https://evil.example.com"), "c2ln"),
            "JWT issuer 'https://evil.example.com' is not configured",
        ),
        (unsigned({"alg": "RS256"}, claims(iss=None), "c2ln"), "JWT issuer None is not"),
        (unsigned({"alg": "ES256", "kid": 7}, claims(), "c2ln"), "the token is malformed"),
        ("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "the token is malformed"),
        ("not a token", "not a JWT"),
    ],
)
async def test_refused_before_any_key_is_fetched(
    verifier: OidcVerifier, token: str, reason: str
) -> None:
    with pytest.raises(InvalidJwt) as error:
        await verifier.verify(token)
    assert reason in str(error.value)
    assert token not in str(error.value)


# --- the key cache, with a fetch that counts its calls and a clock the test moves ---


def ec_jwk(kid: str, **extra: Any) -> dict[str, Any]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    return ECAlgorithm.to_jwk(public, as_dict=True) | {"kid": kid} | extra


class FakeIssuer:
    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.requests: list[str] = []
        self.now = 1000.0
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def fetch(self, url: str) -> Any:
        self.requests.append(url)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise KeyUnavailable(f"{url} answered HTTP 503")
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": "https://idp.example.com", "jwks_uri": "https://idp/discovered"}
        return {"keys": self.keys}

    def cache(self, issuer: OidcIssuer = ISSUER, *, interval: float = 30.0) -> IssuerKeys:
        return IssuerKeys(
            issuer, self.fetch, ttl_s=3600.0, min_refresh_interval_s=interval, clock=self.clock
        )

    def clock(self) -> float:
        return self.now


async def test_keys_are_fetched_once_and_kept() -> None:
    idp = FakeIssuer(ec_jwk("a"), ec_jwk("b"))
    keys = idp.cache()
    first = await keys.key("a", "ES256")
    assert isinstance(first, jwt.PyJWK)
    assert first.algorithm_name == "ES256"
    assert await keys.key("a", "ES256") is first
    await keys.key("b", "ES256")
    assert idp.requests == ["https://idp/keys"]


async def test_an_unknown_kid_refetches_at_most_once_per_interval() -> None:
    idp = FakeIssuer(ec_jwk("a"))
    keys = idp.cache(interval=30.0)
    await keys.key("a", "ES256")
    idp.now += 31
    for _ in range(20):
        with pytest.raises(KeyUnavailable, match="has kid 'made-up'"):
            await keys.key("made-up", "ES256")
    assert len(idp.requests) == 2
    idp.keys.append(ec_jwk("rotated"))
    with pytest.raises(KeyUnavailable):
        await keys.key("rotated", "ES256")
    idp.now += 30
    assert (await keys.key("rotated", "ES256")).algorithm_name == "ES256"
    assert len(idp.requests) == 3


async def test_concurrent_callers_share_one_fetch() -> None:
    idp = FakeIssuer(ec_jwk("a"))
    idp.gate = asyncio.Event()
    keys = idp.cache()
    waiting = [asyncio.create_task(keys.key("a", "ES256")) for _ in range(25)]
    await asyncio.sleep(0)
    idp.gate.set()
    found = await asyncio.gather(*waiting)
    assert len(idp.requests) == 1
    assert len({id(k) for k in found}) == 1


async def test_known_keys_stay_in_use_when_a_refresh_fails() -> None:
    idp = FakeIssuer(ec_jwk("a"))
    keys = idp.cache(interval=0.0)
    await keys.key("a", "ES256")
    idp.fail = True
    idp.now += 7200  # past the TTL
    assert (await keys.key("a", "ES256")).algorithm_name == "ES256"
    with pytest.raises(KeyUnavailable, match="has kid 'b'"):
        await keys.key("b", "ES256")


async def test_no_keys_at_all_is_reported_and_not_retried_at_once() -> None:
    idp = FakeIssuer(ec_jwk("a"))
    idp.fail = True
    keys = idp.cache(interval=30.0)
    with pytest.raises(KeyUnavailable, match="answered HTTP 503"):
        await keys.key("a", "ES256")
    with pytest.raises(KeyUnavailable, match="could not be fetched"):
        await keys.key("a", "ES256")
    assert len(idp.requests) == 1
    idp.fail, idp.now = False, idp.now + 30
    await keys.key("a", "ES256")


async def test_closing_stops_a_fetch_in_flight() -> None:
    idp = FakeIssuer(ec_jwk("a"))
    idp.gate = asyncio.Event()  # never opens
    keys = idp.cache()
    waiting = asyncio.create_task(keys.key("a", "ES256"))
    await asyncio.sleep(0)
    await asyncio.wait_for(keys.close(), timeout=1)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert idp.requests == ["https://idp/keys"]


async def test_keys_are_discovered_when_no_jwks_uri_is_configured() -> None:
    idp = FakeIssuer(ec_jwk("a"))
    keys = idp.cache(OidcIssuer("https://idp.example.com", "image-service"))
    await keys.key("a", "ES256")
    assert idp.requests == [
        "https://idp.example.com/.well-known/openid-configuration",
        "https://idp/discovered",
    ]


async def test_a_discovery_document_for_another_issuer_is_refused() -> None:
    idp = FakeIssuer(ec_jwk("a"))
    keys = idp.cache(OidcIssuer("https://other.example.com", "image-service"))
    with pytest.raises(KeyUnavailable, match="does not describe issuer https://other"):
        await keys.key("a", "ES256")


async def test_a_token_without_kid_uses_the_only_key() -> None:
    assert await FakeIssuer(ec_jwk("a")).cache().key(None, "ES256")
    with pytest.raises(KeyUnavailable, match="has kid None"):
        await FakeIssuer(ec_jwk("a"), ec_jwk("b")).cache().key(None, "ES256")


@pytest.mark.parametrize(
    ("jwk", "alg", "reason"),
    [
        (ec_jwk("k"), "RS256", "is not for RS256"),
        (ec_jwk("k"), "ES384", "is not on curve P-384"),
        (ec_jwk("k", alg="ES384"), "ES256", "is not for ES256"),
        (ec_jwk("k", use="enc"), "ES256", "has kid 'k'"),
        ({"kty": "oct", "k": "c2VjcmV0", "kid": "k"}, "ES256", "has kid 'k'"),
        (ec_jwk("k", x="AAAA"), "ES256", "is unusable"),
    ],
)
async def test_a_key_is_used_only_with_its_own_algorithm(
    jwk: dict[str, Any], alg: str, reason: str
) -> None:
    with pytest.raises(KeyUnavailable, match=reason):
        await FakeIssuer(jwk).cache().key("k", alg)


@pytest.mark.parametrize("document", [{"nokeys": []}, [], {"keys": "x"}])
async def test_a_document_that_is_not_a_jwks_is_refused(document: Any) -> None:
    idp = FakeIssuer()

    async def fetch(url: str) -> Any:
        return document

    keys = IssuerKeys(ISSUER, fetch, ttl_s=60, min_refresh_interval_s=0, clock=idp.clock)
    with pytest.raises(KeyUnavailable, match="is not a JWKS"):
        await keys.key("k", "ES256")
