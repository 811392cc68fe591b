"""Answering registry auth challenges: Basic credentials, or Bearer tokens cached per scope."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from yarl import URL

from app.scanner.errors import RegistryDenied, RegistryProtocolError
from app.scanner.registry.challenges import Challenge, parse_challenges
from app.scanner.registry.credentials import Credentials, CredentialStore
from app.scanner.registry.transport import ResponseTooLarge, Transport

log = logging.getLogger(__name__)

DEFAULT_TOKEN_LIFETIME_S = 60
TOKEN_MARGIN_S = 10  # renew this long before the registry's stated expiry
MAX_TOKEN_ANSWER_BYTES = 1 << 20
CLIENT_ID = "image-service"


@dataclass(frozen=True, slots=True)
class Authorization:
    """The `Authorization` header to send (None: anonymous) and whether credentials made it."""

    header: str | None = None
    with_credentials: bool = False


ANONYMOUS = Authorization()


@dataclass(frozen=True, slots=True)
class _CachedToken:
    authorization: Authorization
    expires_at: float  # on the monotonic clock


def pull_scope(remote: str) -> str:
    return f"repository:{remote}:pull"


def token_lifetime(expires_in: object) -> float:
    """How long to use a token: its `expires_in` (default 60 s) less a safety margin."""
    seconds = expires_in if isinstance(expires_in, int | float) and expires_in > 0 else None
    lifetime = float(seconds or DEFAULT_TOKEN_LIFETIME_S)
    return max(lifetime - TOKEN_MARGIN_S, lifetime / 2)


class Authenticator:
    """Remembers what each registry asked for and the tokens it granted; never logs secrets."""

    def __init__(
        self,
        transport: Transport,
        credentials: CredentialStore,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._transport = transport
        self._credentials = credentials
        self._clock = clock
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str], _CachedToken] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def data_source(self, registry: str, authorization: Authorization) -> str:
        """How an answer was obtained, for ResolvedImage.data_source."""
        if not authorization.with_credentials:
            return "anonymous"
        return f"{self._credentials.source or 'configured'} credentials for {registry}"

    async def authorization(self, registry: str, remote: str) -> Authorization:
        """What to send unasked: a live token, or the answer to this registry's last challenge."""
        cached = self._cached(registry, pull_scope(remote))
        if cached is not None:
            return cached
        challenge = self._challenges.get(registry)
        if challenge is None:
            return ANONYMOUS
        return await self._answer(registry, remote, challenge, stale=None)

    async def answer(
        self, registry: str, remote: str, headers: list[str], stale: Authorization
    ) -> Authorization:
        """The authorization for a 401 carrying these `WWW-Authenticate` values.

        `stale` is what the refused request sent; a cached token equal to it is dropped.

        Raises:
            RegistryDenied: no usable challenge, or Basic without credentials, or the token
                service refused.
        """
        challenges = parse_challenges(headers)
        by_scheme = {c.scheme: c for c in reversed(challenges)}
        challenge = by_scheme.get("bearer") or by_scheme.get("basic")
        if challenge is None:
            schemes = ", ".join(sorted(by_scheme)) or "none"
            raise RegistryDenied(
                f"registry {registry} asks for an authentication scheme this service does not "
                f"support ({schemes})",
                registry=registry,
            )
        self._challenges[registry] = challenge
        return await self._answer(registry, remote, challenge, stale=stale)

    def denied(self, registry: str, remote: str, authorization: Authorization) -> RegistryDenied:
        """The error for a request refused although we answered the challenge."""
        if authorization.with_credentials:
            source = self._credentials.source or "the configured"
            return RegistryDenied(
                f"registry {registry} refused the credentials from {source} for pulling {remote}",
                registry=registry,
            )
        return RegistryDenied(
            f"registry {registry} requires credentials to pull {remote} (or the repository "
            "does not exist), and none are configured for it",
            registry=registry,
        )

    def _cached(self, registry: str, scope: str) -> Authorization | None:
        token = self._tokens.get((registry, scope))
        if token is None:
            return None
        if token.expires_at <= self._clock():
            del self._tokens[(registry, scope)]
            return None
        return token.authorization

    async def _answer(
        self, registry: str, remote: str, challenge: Challenge, stale: Authorization | None
    ) -> Authorization:
        credentials = self._credentials.for_registry(registry)
        if challenge.scheme == "basic":
            if credentials is None or not credentials.has_password:
                raise self.denied(registry, remote, ANONYMOUS)
            return Authorization(_basic(credentials), with_credentials=True)
        scope = pull_scope(remote)
        key = (registry, scope)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cached(registry, scope)
            if cached is not None and cached != stale:
                return cached  # another task fetched a fresh one meanwhile
            self._tokens.pop(key, None)
            authorization, lifetime = await self._fetch_token(
                registry, remote, challenge, credentials
            )
            self._tokens[key] = _CachedToken(authorization, self._clock() + lifetime)
            return authorization

    async def _fetch_token(
        self,
        registry: str,
        remote: str,
        challenge: Challenge,
        credentials: Credentials | None,
    ) -> tuple[Authorization, float]:
        realm = challenge.params.get("realm", "")
        try:
            realm_url = URL(realm)
        except ValueError:
            realm_url = URL()
        if realm_url.scheme not in ("http", "https") or not realm_url.host:
            raise RegistryProtocolError(
                f"registry {registry} sent a Bearer challenge without a usable realm",
                registry=registry,
            )
        credentials = self._realm_credentials(registry, realm_url, credentials)
        query = {"scope": pull_scope(remote)}
        if challenge.params.get("service"):
            query["service"] = challenge.params["service"]
        headers: dict[str, str] = {}
        form: dict[str, str] | None = None
        method = "GET"
        if credentials is not None and credentials.identity_token:
            # OAuth2 refresh-token grant, as Docker does with an identity token
            method = "POST"
            form = {
                "grant_type": "refresh_token",
                "refresh_token": credentials.identity_token,
                "client_id": CLIENT_ID,
                **query,
            }
        else:
            realm_url = realm_url.extend_query(query)
            if credentials is not None and credentials.has_password:
                headers["Authorization"] = _basic(credentials)
        with_credentials = form is not None or "Authorization" in headers
        try:
            fetched = await self._transport.fetch(
                registry,
                method,
                realm_url,
                headers=headers,
                limit=MAX_TOKEN_ANSWER_BYTES,
                data=form,
            )
        except ResponseTooLarge:
            raise RegistryProtocolError(
                f"the token service of registry {registry} sent an oversized answer",
                registry=registry,
            ) from None
        attempted = Authorization(None, with_credentials)
        if fetched.status in (401, 403):
            raise self.denied(registry, remote, attempted)
        if fetched.status != 200:
            raise RegistryProtocolError(
                f"the token service of registry {registry} answered HTTP {fetched.status}",
                registry=registry,
            )
        try:
            answer = json.loads(fetched.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            answer = None
        if not isinstance(answer, dict):
            answer = {}
        token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryProtocolError(
                f"the token service of registry {registry} sent no token", registry=registry
            )
        lifetime = token_lifetime(answer.get("expires_in"))
        return Authorization(f"Bearer {token}", with_credentials), lifetime

    def _realm_credentials(
        self, registry: str, realm: URL, credentials: Credentials | None
    ) -> Credentials | None:
        """The credentials a token realm may get: none over plain HTTP to an unlisted host."""
        if credentials is None or self._transport.may_carry_credentials(realm):
            return credentials
        log.warning(
            "registry %s names a plain-HTTP token realm on an unlisted host; "
            "asking it without credentials",
            registry,
        )
        return None


def _basic(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
