"""An OIDC issuer's signing keys: fetched over HTTP, cached, refetched on an unknown `kid`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import jwt
import orjson

from app.auth.oidc_config import OidcIssuer, short_repr, url_problem

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 10.0
MAX_DOCUMENT_BYTES = 1 << 20

# The key type (and curve) each accepted algorithm needs: a key is never used with another family.
KEY_FAMILY: dict[str, tuple[str, str | None]] = {
    **{f"RS{bits}": ("RSA", None) for bits in (256, 384, 512)},
    **{f"PS{bits}": ("RSA", None) for bits in (256, 384, 512)},
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", None),
}

FetchJson = Callable[[str], Awaitable[Any]]


class KeyUnavailable(Exception):
    """No usable key: the issuer's keys cannot be fetched, or none fits the token's header."""


class KeysUnreachable(KeyUnavailable):
    """The issuer's discovery document or key set could not be fetched; the detail (URLs,
    addresses) is for the log, not for the caller."""


class JsonFetcher:
    """GETs small JSON documents (discovery, JWKS) with a time limit and a size cap."""

    def __init__(self, session_factory: Callable[[], aiohttp.ClientSession] | None = None) -> None:
        self._session_factory = session_factory or aiohttp.ClientSession
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, url: str) -> Any:
        if self._session is None:
            self._session = self._session_factory()
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
        try:
            async with self._session.get(
                url, timeout=timeout, headers={"Accept": "application/json"}
            ) as response:
                if response.status != 200:
                    raise KeysUnreachable(f"{url} answered HTTP {response.status}")
                body = await _capped_body(response, url)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KeysUnreachable(
                f"{url} could not be fetched: {type(exc).__name__} {exc}"
            ) from None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise KeysUnreachable(f"{url} did not answer JSON") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _capped_body(response: aiohttp.ClientResponse, url: str) -> bytes:
    too_big = KeysUnreachable(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    if (response.content_length or 0) > MAX_DOCUMENT_BYTES:
        raise too_big
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 << 10):
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise too_big
    return bytes(body)


class IssuerKeys:
    """The signing keys of one issuer.

    Fetched on first use and kept for `ttl_s`. A `kid` not among them triggers a refetch (keys
    rotate), but fetches happen at most once per `min_refresh_interval_s`, so a flood of tokens
    with made-up `kid`s cannot hammer the issuer; concurrent callers share one fetch in flight.
    When a refresh fails, the keys already known stay in use.
    """

    def __init__(
        self,
        issuer: OidcIssuer,
        fetch_json: FetchJson,
        *,
        ttl_s: float,
        min_refresh_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._fetch_json = fetch_json
        self._ttl_s = ttl_s
        self._min_interval_s = min_refresh_interval_s
        self._clock = clock
        self._jwks_uri = issuer.jwks_uri
        self._keys: list[dict[str, Any]] | None = None
        self._parsed: dict[tuple[str | None, str], jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None

    async def key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        """The key with this `kid` (or the only key, when the token names none), usable with `alg`.

        Raises:
            KeyUnavailable: the keys cannot be fetched, no key has this `kid` even after a
                refetch, or the key does not fit `alg`.
        """
        if self._keys is None or self._clock() - self._fetched_at >= self._ttl_s:
            await self._refresh()
        found = self._find(kid)
        if found is None and kid is not None:
            await self._refresh()
            found = self._find(kid)
        if found is None:
            raise KeyUnavailable(f"no key has kid {short_repr(kid)}")
        cached = self._parsed.get((kid, alg))
        if cached is None:
            cached = self._parsed[(kid, alg)] = _usable_key(found, alg)
        return cached

    async def close(self) -> None:
        if self._inflight is not None:
            self._inflight.cancel()
            await asyncio.gather(self._inflight, return_exceptions=True)

    def _find(self, kid: str | None) -> dict[str, Any] | None:
        keys = self._keys or []
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((k for k in keys if k.get("kid") == kid), None)

    async def _refresh(self) -> None:
        if self._inflight is None:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self._min_interval_s:
                if self._keys is None:
                    every = f"{self._min_interval_s:g}s"
                    raise KeysUnreachable(f"the keys could not be fetched (tried once per {every})")
                return
            self._attempted_at = now
            self._inflight = asyncio.create_task(self._fetch())
            self._inflight.add_done_callback(self._fetch_done)
        try:
            await asyncio.shield(self._inflight)
        except KeyUnavailable:
            if self._keys is None:
                raise

    def _fetch_done(self, task: asyncio.Task[None]) -> None:
        if self._inflight is task:
            self._inflight = None
        # a fetch whose callers all went away must not log "exception was never retrieved"
        if not task.cancelled():
            task.exception()

    async def _fetch(self) -> None:
        try:
            if not self._jwks_uri:
                self._jwks_uri = await self._discover()
            document = await self._fetch_json(self._jwks_uri)
            keys = _signing_keys(document, self._jwks_uri)
        except KeyUnavailable as exc:
            log.warning("OIDC keys of %s not refreshed: %s", self._issuer.issuer, exc)
            self._jwks_uri = self._issuer.jwks_uri  # discover again next time
            raise
        self._keys, self._parsed, self._fetched_at = keys, {}, self._clock()

    async def _discover(self) -> str:
        url = self._issuer.discovery_uri
        document = await self._fetch_json(url)
        if not isinstance(document, dict) or document.get("issuer") != self._issuer.issuer:
            raise KeysUnreachable(f"{url} does not describe issuer {self._issuer.issuer}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or url_problem(jwks_uri) is not None:
            raise KeysUnreachable(f"{url}: jwks_uri {jwks_uri!r:.200} is missing or not allowed")
        return jwks_uri


def _signing_keys(document: object, url: str) -> list[dict[str, Any]]:
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise KeysUnreachable(f"{url} is not a JWKS (no 'keys' array)")
    return [
        k
        for k in entries
        if isinstance(k, dict) and k.get("use", "sig") == "sig" and k.get("kty") != "oct"
    ]


def _usable_key(jwk: dict[str, Any], alg: str) -> jwt.PyJWK:
    kty, crv = KEY_FAMILY[alg]
    declared = jwk.get("alg")
    if (declared is not None and declared != alg) or jwk.get("kty") != kty:
        raise KeyUnavailable(f"key {short_repr(jwk.get('kid'))} is not for {alg}")
    if crv is not None and jwk.get("crv") != crv:
        raise KeyUnavailable(f"key {short_repr(jwk.get('kid'))} is not on curve {crv}")
    try:
        return jwt.PyJWK(jwk, algorithm=alg)
    except jwt.PyJWTError as exc:
        raise KeyUnavailable(f"key {short_repr(jwk.get('kid'))} is unusable: {exc}") from None
