"""OIDC issuers for tests: keys the tests make and sign with, and issuers on loopback serving a
discovery document and a JWKS through an aiohttp app that counts what it is asked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import jwt
import orjson
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

SCANNER = "system:serviceaccount:ci:scanner"


class SigningKey:
    """A private key the tests sign with, and its public half as a JWK."""

    def __init__(self, kid: str, alg: str) -> None:
        self.kid, self.alg = kid, alg
        if alg.startswith(("RS", "PS")):
            self.private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
            self.jwk = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
            self.private = ec.generate_private_key(curve[alg])
            self.jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk |= {"kid": kid, "use": "sig"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm=self.alg, headers={"kid": self.kid} | header
        )


_KEYS: dict[tuple[str, str], SigningKey] = {}


def key(kid: str, alg: str = "RS256") -> SigningKey:
    """One key per (kid, alg) for the whole test run: RSA keys take a while to make."""
    if (kid, alg) not in _KEYS:
        _KEYS[(kid, alg)] = SigningKey(kid, alg)
    return _KEYS[(kid, alg)]


class Idp:
    """An OIDC issuer on loopback: discovery at <issuer>/.well-known/openid-configuration,
    keys at <issuer>/jwks. `keys` may change between requests (rotation)."""

    def __init__(self, base: str, path: str, *keys: SigningKey) -> None:
        self.issuer = base + path
        self.keys = list(keys)
        self.jwks_requests = 0
        self.discovery: dict[str, Any] = {"issuer": self.issuer, "jwks_uri": self.issuer + "/jwks"}
        self.jwks_body: bytes | None = None
        self.jwks_status = 200
        self.jwks_delay_s = 0.0
        self.user_agents: list[str] = []
        self.jwks_chunked = False  # no Content-Length: the size cap must count what arrives

    async def serve_discovery(self, request: web.Request) -> web.Response:
        self.user_agents.append(request.headers.get("User-Agent", ""))
        return web.json_response(self.discovery)

    async def serve_jwks(self, request: web.Request) -> web.StreamResponse:
        self.jwks_requests += 1
        self.user_agents.append(request.headers.get("User-Agent", ""))
        await asyncio.sleep(self.jwks_delay_s)
        body = self.jwks_body or orjson.dumps({"keys": [k.jwk for k in self.keys]})
        if not self.jwks_chunked:
            return web.Response(body=body, status=self.jwks_status, content_type="application/json")
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 1 << 16):
            await response.write(body[start : start + (1 << 16)])
        return response

    def claims(self, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {"iss": self.issuer, "aud": "image-service", "sub": SCANNER, "iat": now}
        return base | {"exp": now + 600} | extra


def idps_app(by_name: Mapping[str, Idp]) -> web.Application:
    """One server for several issuers: `by_name[name]` answers at /<name>/… (the mapping is
    read per request, so issuers may be added once the server's port is known)."""

    async def discovery(request: web.Request) -> web.Response:
        return await by_name[request.match_info["name"]].serve_discovery(request)

    async def jwks(request: web.Request) -> web.StreamResponse:
        return await by_name[request.match_info["name"]].serve_jwks(request)

    app = web.Application()
    app.router.add_get("/{name}/.well-known/openid-configuration", discovery)
    app.router.add_get("/{name}/jwks", jwks)
    return app
