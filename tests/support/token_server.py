"""A Docker registry token service for tests: an aiohttp app on loopback issuing RS256 JWTs.

It follows the distribution token auth protocol: `GET /token?service=..&scope=..` with optional
Basic credentials, or `POST /token` with an OAuth2 refresh-token grant. Tokens carry the signing
certificate in the `x5c` header, which distribution 2.8 verifies against its `rootcertbundle`.

Policy: repositories under `public/` may be pulled anonymously; every known user may pull every
repository; a wrong password is refused with 401. It runs in a thread with its own event loop,
so a session-scoped registry can point at it and synchronous test code can call it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.support.certificates import KeyPair
from tests.support.registry import LOOPBACK, free_port

ISSUER = "scanner-tests-token-issuer"
SERVICE = "scanner-tests-registry"
PUBLIC_PREFIX = "public/"


@dataclass(frozen=True)
class TokenRequest:
    """What the service was asked, for assertions (never the password)."""

    method: str
    scope: str
    user: str | None  # who authenticated, None when anonymous
    grant: str  # "basic", "refresh_token" or "anonymous"


@dataclass
class TokenServer:
    """A running token service: `realm` goes into the registry's config."""

    signer: KeyPair
    users: dict[str, str]  # username -> password
    refresh_tokens: dict[str, str]  # refresh token -> username
    expires_in: int = 300
    port: int = 0
    requests: list[TokenRequest] = field(default_factory=list)

    @property
    def realm(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/token"

    def issue(self, subject: str, scope: str, may_pull: bool) -> str:
        """A signed JWT granting pull on the scope's repository when `may_pull`."""
        now = int(time.time())
        access = []
        kind, _, rest = scope.partition(":")
        name, _, _actions = rest.rpartition(":")
        if may_pull and kind == "repository" and name:
            access.append({"type": "repository", "name": name, "actions": ["pull"]})
        header = {"typ": "JWT", "alg": "RS256", "x5c": [_b64(self.signer.certificate_der)]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + self.expires_in,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{_b64url(_json(header))}.{_b64url(_json(claims))}".encode()
        signature = self.signer.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64url(signature)}"

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            form = await request.post()
            scope = str(form.get("scope", ""))
            user = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if form.get("grant_type") != "refresh_token" or user is None:
                return web.json_response({"error": "invalid_grant"}, status=401)
            self.requests.append(TokenRequest("POST", scope, user, "refresh_token"))
            return self._answer(user, scope, access_token=True)
        scope = request.query.get("scope", "")
        if request.query.get("service") != SERVICE:
            return web.json_response({"errors": [{"code": "UNSUPPORTED"}]}, status=400)
        user = None
        if request.headers.get("Authorization", "").startswith("Basic "):
            encoded = request.headers["Authorization"].removeprefix("Basic ")
            username, _, password = base64.b64decode(encoded).decode().partition(":")
            if self.users.get(username) != password:
                self.requests.append(TokenRequest("GET", scope, None, "basic"))
                return web.json_response({"errors": [{"code": "UNAUTHORIZED"}]}, status=401)
            user = username
        self.requests.append(TokenRequest("GET", scope, user, "basic" if user else "anonymous"))
        return self._answer(user, scope, access_token=False)

    def _answer(self, user: str | None, scope: str, *, access_token: bool) -> web.Response:
        repository = scope.split(":")[1] if scope.count(":") >= 2 else ""
        may_pull = user is not None or repository.startswith(PUBLIC_PREFIX)
        token = self.issue(user or "", scope, may_pull)
        key = "access_token" if access_token else "token"
        return web.json_response({key: token, "expires_in": self.expires_in})


@contextmanager
def run_token_server(
    signer: KeyPair,
    *,
    users: dict[str, str] | None = None,
    refresh_tokens: dict[str, str] | None = None,
    expires_in: int = 300,
) -> Iterator[TokenServer]:
    """Serve a TokenServer on a free loopback port in a background thread until exit."""
    server = TokenServer(
        signer, dict(users or {}), dict(refresh_tokens or {}), expires_in, port=free_port()
    )
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        app = web.Application()
        app.router.add_route("*", "/token", server._handle)
        runner = web.AppRunner(app, access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, LOOPBACK, server.port).start())
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)
            ready.set()
            loop.close()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="token-server", daemon=True)
    thread.start()
    ready.wait(timeout=10)
    if failure:
        thread.join()
        raise RuntimeError("the token server did not start") from failure[0]
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
