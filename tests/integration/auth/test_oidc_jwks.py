"""JWTs verified end to end: keys the tests make, a JWKS and a discovery document served on
loopback by an aiohttp server that counts what it is asked (tests/support/oidc_idp.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth import oidc_jwks
from app.auth.oidc import InvalidJwt, OidcIdentity, OidcIssuer, OidcVerifier, RoleRule
from app.cli.local_store import free_port
from tests.support.oidc_idp import SCANNER, Idp, idps_app, key

CI = "Continuous Integration"


MakeIdps = Callable[..., Awaitable[list[Idp]]]


@pytest.fixture
async def make_idps(aiohttp_server: Any) -> MakeIdps:
    """Issuers under one loopback server, at /a, /b, … ; each starts with its own key."""

    async def make(count: int = 1, alg: str = "RS256") -> list[Idp]:
        by_name: dict[str, Idp] = {}
        server = await aiohttp_server(idps_app(by_name), host="127.0.0.1")
        base = f"http://127.0.0.1:{server.port}"
        for name in "abcd"[:count]:
            by_name[name] = Idp(base, f"/{name}", key(f"{name}-1", alg))
        return list(by_name.values())

    return make


@pytest.fixture
async def verifiers() -> AsyncIterator[list[OidcVerifier]]:
    made: list[OidcVerifier] = []
    yield made
    for verifier in made:
        await verifier.close()


def issuer_of(idp: Idp, *, discover: bool = True, **extra: Any) -> OidcIssuer:
    rules = (RoleRule("sub", SCANNER, CI), RoleRule("groups", "image-admins", "Admin"))
    jwks_uri = "" if discover else idp.issuer + "/jwks"
    return OidcIssuer(idp.issuer, "image-service", jwks_uri, rules, **extra)


@pytest.fixture
def verifier_for(verifiers: list[OidcVerifier]) -> Callable[..., OidcVerifier]:
    def make(*issuers: OidcIssuer, **options: Any) -> OidcVerifier:
        verifier = OidcVerifier(issuers, **options)
        verifiers.append(verifier)
        return verifier

    return make


@pytest.mark.parametrize("alg", ["RS256", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA"])
async def test_a_good_token_gives_an_identity_with_mapped_roles(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier], alg: str
) -> None:
    (idp,) = await make_idps(alg=alg)
    verifier = verifier_for(issuer_of(idp))
    exp = int(time.time()) + 300
    token = idp.keys[0].sign(idp.claims(exp=exp, groups=["dev", "image-admins"]))
    assert await verifier.verify(token) == OidcIdentity(
        issuer=idp.issuer,
        subject=SCANNER,
        roles=(CI, "Admin"),
        expires_at=datetime.fromtimestamp(exp, UTC),
    )
    other = idp.keys[0].sign(idp.claims(sub="system:serviceaccount:ci:other"))
    assert (await verifier.verify(other)).roles == ()


async def test_a_configured_jwks_uri_skips_discovery(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier]
) -> None:
    (idp,) = await make_idps()
    idp.discovery = {"issuer": "https://somewhere.else"}  # would fail if it were read
    verifier = verifier_for(issuer_of(idp, discover=False))
    assert (await verifier.verify(idp.keys[0].sign(idp.claims()))).roles == (CI,)


def hs256_with_public_key(idp: Idp) -> str:
    """The classic confusion attack: the issuer's public key used as an HMAC secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": idp.keys[0].kid}
    segments = [b64(orjson.dumps(header)), b64(orjson.dumps(idp.claims()))]
    secret = (
        idp.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    mac = hmac.new(secret, ".".join(segments).encode(), hashlib.sha256).digest()
    return ".".join([*segments, b64(mac)])


def alg_none(idp: Idp) -> str:
    header = {"alg": "none", "kid": idp.keys[0].kid}
    return f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(idp.claims()))}."


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


BAD_TOKENS: dict[str, tuple[Callable[[Idp], str], str]] = {
    "wrong audience": (
        lambda idp: idp.keys[0].sign(idp.claims(aud="another-service")),
        "the token is for another audience",
    ),
    "expired": (
        lambda idp: idp.keys[0].sign(idp.claims(exp=int(time.time()) - 60)),
        "the token has expired",
    ),
    "not yet valid": (
        lambda idp: idp.keys[0].sign(idp.claims(nbf=int(time.time()) + 300)),
        "the token is not valid yet",
    ),
    "issued in the future": (
        lambda idp: idp.keys[0].sign(idp.claims(iat=int(time.time()) + 300)),
        "the token is not valid yet",
    ),
    "an exp beyond any date": (
        lambda idp: idp.keys[0].sign(idp.claims(exp=10**20)),
        "the 'exp' claim is out of range",
    ),
    "no exp": (
        lambda idp: idp.keys[0].sign({k: v for k, v in idp.claims().items() if k != "exp"}),
        "the 'exp' claim is missing",
    ),
    "no sub": (
        lambda idp: idp.keys[0].sign({k: v for k, v in idp.claims().items() if k != "sub"}),
        "the 'sub' claim is missing",
    ),
    "unknown key": (
        lambda idp: key("stranger").sign(idp.claims()),
        "has kid 'stranger'",
    ),
    "known kid, another key": (
        lambda idp: key("stranger").sign(idp.claims(), kid=idp.keys[0].kid),
        "the signature does not verify",
    ),
    "unconfigured issuer": (
        lambda idp: idp.keys[0].sign(idp.claims(iss="https://evil.example.com")),
        "JWT issuer 'https://evil.example.com' is not configured",
    ),
    "issuer with a trailing slash": (
        lambda idp: idp.keys[0].sign(idp.claims(iss=idp.issuer + "/")),
        "is not configured",
    ),
    "alg none": (alg_none, "JWT algorithm 'none' is not accepted"),
    "HS256 with the public key as secret": (
        hs256_with_public_key,
        "JWT algorithm 'HS256' is not accepted",
    ),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
async def test_bad_tokens_are_refused(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier], case: str
) -> None:
    (idp,) = await make_idps()
    verifier = verifier_for(issuer_of(idp), min_refresh_interval_s=0.0)
    await verifier.verify(idp.keys[0].sign(idp.claims()))  # the keys are cached
    make_token, reason = BAD_TOKENS[case]
    token = make_token(idp)
    with pytest.raises(InvalidJwt) as error:
        await verifier.verify(token)
    assert reason in str(error.value)
    assert token not in str(error.value)


async def test_an_unknown_kid_is_refetched_before_it_is_refused(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier]
) -> None:
    (idp,) = await make_idps()
    verifier = verifier_for(issuer_of(idp), min_refresh_interval_s=0.0)
    await verifier.verify(idp.keys[0].sign(idp.claims()))
    with pytest.raises(InvalidJwt, match="has kid 'stranger'"):
        await verifier.verify(key("stranger").sign(idp.claims()))
    assert idp.jwks_requests == 2


async def test_a_rotated_key_is_accepted_after_a_refetch(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier]
) -> None:
    (idp,) = await make_idps()
    verifier = verifier_for(issuer_of(idp), min_refresh_interval_s=0.2)
    await verifier.verify(idp.keys[0].sign(idp.claims()))
    rotated = key("a-2")
    idp.keys = [rotated]
    await asyncio.sleep(0.25)
    assert (await verifier.verify(rotated.sign(idp.claims()))).subject == SCANNER
    assert idp.jwks_requests == 2
    with pytest.raises(InvalidJwt, match="has kid 'a-1'"):  # the old key is gone now
        await verifier.verify(key("a-1").sign(idp.claims()))


async def test_a_flood_of_unknown_kids_fetches_the_jwks_once_per_interval(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier]
) -> None:
    (idp,) = await make_idps()
    verifier = verifier_for(issuer_of(idp), min_refresh_interval_s=0.3)
    await verifier.verify(idp.keys[0].sign(idp.claims()))
    assert idp.jwks_requests == 1
    forged = [key(f"bogus-{n % 3}", "ES256").sign(idp.claims()) for n in range(60)]
    for token in forged[:20]:  # within the interval: no fetch at all
        with pytest.raises(InvalidJwt):
            await verifier.verify(token)
    assert idp.jwks_requests == 1
    await asyncio.sleep(0.35)
    idp.jwks_delay_s = 0.05  # the next fetch is in flight while the others arrive
    outcomes = await asyncio.gather(
        *(verifier.verify(t) for t in forged[20:]), return_exceptions=True
    )
    assert all(isinstance(o, InvalidJwt) for o in outcomes)
    assert idp.jwks_requests == 2


async def test_two_issuers_each_with_their_own_keys(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier]
) -> None:
    a, b = await make_idps(2)
    ci_only = OidcIssuer(b.issuer, "other-audience", rules=(RoleRule("sub", "*", "Analyst"),))
    verifier = verifier_for(issuer_of(a), ci_only)
    assert (await verifier.verify(a.keys[0].sign(a.claims()))).roles == (CI,)
    from_b = await verifier.verify(b.keys[0].sign(b.claims(aud=["x", "other-audience"])))
    assert (from_b.issuer, from_b.roles) == (b.issuer, ("Analyst",))
    with pytest.raises(InvalidJwt, match="another audience"):  # each issuer its own audience
        await verifier.verify(b.keys[0].sign(b.claims()))
    with pytest.raises(InvalidJwt, match="has kid 'b-1'"):  # b's key does not speak for a
        await verifier.verify(b.keys[0].sign(a.claims()))
    assert (a.jwks_requests, b.jwks_requests) == (1, 1)


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [
        (lambda idp: setattr(idp, "jwks_status", 500), "answered HTTP 500"),
        (lambda idp: setattr(idp, "jwks_body", b"<html>"), "did not answer JSON"),
        (
            lambda idp: setattr(idp, "jwks_body", b" " * (oidc_jwks.MAX_DOCUMENT_BYTES + 1)),
            "answered more than 1048576 bytes",
        ),
        (
            lambda idp: idp.__dict__.update(
                jwks_chunked=True, jwks_body=b" " * (oidc_jwks.MAX_DOCUMENT_BYTES + 1)
            ),
            "answered more than 1048576 bytes",
        ),
        (
            lambda idp: setattr(idp, "discovery", {"issuer": idp.issuer}),
            "jwks_uri None is missing or not allowed",
        ),
        (
            lambda idp: idp.discovery.update(jwks_uri="http://keys.example.com/jwks"),
            "jwks_uri 'http://keys.example.com/jwks' is missing or not allowed",
        ),
        (lambda idp: setattr(idp, "jwks_delay_s", 1.0), "could not be fetched"),
    ],
)
async def test_an_issuer_whose_keys_cannot_be_had_is_refused(
    make_idps: MakeIdps,
    verifier_for: Callable[..., OidcVerifier],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    break_it: Callable[[Idp], None],
    reason: str,
) -> None:
    monkeypatch.setattr(oidc_jwks, "FETCH_TIMEOUT_S", 0.3)
    (idp,) = await make_idps()
    break_it(idp)
    verifier = verifier_for(issuer_of(idp))
    with caplog.at_level("WARNING", logger=oidc_jwks.__name__), pytest.raises(InvalidJwt) as error:
        await verifier.verify(idp.keys[0].sign(idp.claims()))
    # the caller learns only that the keys are missing; the reason, with its URL, is logged
    assert str(error.value) == (
        f"JWT from {idp.issuer}: the issuer's signing keys could not be fetched"
    )
    assert reason in caplog.text


async def test_clock_skew_is_allowed_up_to_the_issuers_leeway(
    make_idps: MakeIdps, verifier_for: Callable[..., OidcVerifier]
) -> None:
    (idp,) = await make_idps()
    lenient = verifier_for(issuer_of(idp, leeway_s=30.0))
    strict = verifier_for(issuer_of(idp, leeway_s=0.0))
    now = int(time.time())
    token = idp.keys[0].sign(idp.claims(exp=now - 10, nbf=now + 10, iat=now + 10))
    assert (await lenient.verify(token)).subject == SCANNER
    with pytest.raises(InvalidJwt, match="not valid yet"):
        await strict.verify(token)
    with pytest.raises(InvalidJwt, match="has expired"):
        await strict.verify(idp.keys[0].sign(idp.claims(exp=now - 10)))


async def test_the_session_comes_from_the_factory_and_is_closed(make_idps: MakeIdps) -> None:
    (idp,) = await make_idps()
    sessions: list[aiohttp.ClientSession] = []

    def factory() -> aiohttp.ClientSession:
        sessions.append(aiohttp.ClientSession(headers={"User-Agent": "image-service-test"}))
        return sessions[-1]

    verifier = OidcVerifier([issuer_of(idp)], session_factory=factory)
    assert sessions == []  # nothing is opened before the first token
    await verifier.verify(idp.keys[0].sign(idp.claims()))
    await verifier.verify(idp.keys[0].sign(idp.claims()))
    assert len(sessions) == 1
    assert idp.user_agents == ["image-service-test"] * 2  # discovery and JWKS
    await verifier.close()
    assert sessions[0].closed


async def test_an_unreachable_issuer_is_not_described_to_the_caller() -> None:
    port = free_port()  # nothing listens there
    issuer = OidcIssuer(
        issuer=f"http://127.0.0.1:{port}",
        audience="image-service",
        jwks_uri=f"http://127.0.0.1:{port}/keys",
    )
    verifier = OidcVerifier([issuer])
    try:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(
            {"iss": issuer.issuer, "aud": "image-service", "sub": "x", "exp": time.time() + 60},
            key,
            algorithm="RS256",
            headers={"kid": "k"},
        )
        with pytest.raises(InvalidJwt) as caught:
            await verifier.verify(token)
    finally:
        await verifier.close()
    assert str(caught.value).endswith("the issuer's signing keys could not be fetched")
    assert "/keys" not in str(caught.value)
