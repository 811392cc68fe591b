"""HTTP to registries: one session, per-registry concurrency, timeouts, retries, redirects.

Every failure leaves here as a ScanError naming the registry, never as an aiohttp error.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from app.scanner.errors import (
    DestinationRefused,
    RegistryProtocolError,
    RegistryTimeout,
    RegistryUnavailable,
    ScanError,
)
from app.scanner.registry.outbound import GuardedResolver, OutboundPolicy, RefusedDestination
from app.scanner.registry.retry import RETRYABLE_STATUSES, backoff_delay, parse_retry_after
from app.scanner.registry.settings import RegistrySettings

log = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK_BYTES = 64 * 1024
ERROR_BODY_BYTES = 64 * 1024  # enough of an error answer to read its JSON error codes
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
_DEFAULT_HEADERS = {"User-Agent": "image-service", "Accept-Encoding": "identity"}


class ResponseTooLarge(Exception):
    """A success body is longer than the caller's limit (the caller names what it was)."""

    def __init__(self, limit: int):
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class _Transient(Exception):
    """A failure worth another try: a connection error or a 429/5xx answer."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class _Request:
    registry: str
    method: str
    url: URL
    headers: Mapping[str, str]
    data: Mapping[str, str] | None
    streaming: bool


@dataclass(frozen=True, slots=True)
class Fetched:
    """A whole (size-capped) answer."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


class Transport:
    """The one aiohttp session of a RegistryClient and the rules every request follows."""

    def __init__(self, settings: RegistrySettings):
        self._settings = settings
        self._ssl = _ssl_setting(settings.ca_bundle)
        self._policy = OutboundPolicy.build(settings.insecure_registries, settings.allowlist)
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._timeout = aiohttp.ClientTimeout(
            total=settings.request_timeout_s, sock_connect=settings.connect_timeout_s
        )
        # a blob may take long as a whole; what must not be long is the wait for the next bytes
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=settings.connect_timeout_s,
            sock_read=settings.request_timeout_s,
        )

    def base_url(self, registry: str) -> URL:
        """`docker.io` is served from registry-1.docker.io; plain HTTP only for insecure hosts."""
        host = DOCKER_HUB_ENDPOINT if registry == DOCKER_HUB else registry
        scheme = "http" if registry.lower() in self._settings.insecure_registries else "https"
        return URL(f"{scheme}://{host}")

    def may_carry_credentials(self, url: URL) -> bool:
        """Credentials travel over HTTPS, or in plain HTTP only to a listed host[:port]."""
        return url.scheme == "https" or self._policy.is_listed(url.host or "", url.port)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:
            await self._resolver.close()  # the connector closes only a resolver it made
            self._resolver = None

    async def fetch(
        self,
        registry: str,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str],
        limit: int,
        data: Mapping[str, str] | None = None,
    ) -> Fetched:
        """Send with retries and read the whole answer (error bodies are cut short).

        Raises:
            ResponseTooLarge: a 2xx body longer than `limit`.
            ScanError: RegistryUnavailable, RegistryTimeout or RegistryProtocolError.
        """

        request = _Request(registry, method, url, headers, data, streaming=False)

        async def attempt() -> Fetched:
            response, held = await self._open(request)
            async with held:
                success = response.status < 300
                try:
                    body = await _read_body(
                        response, limit if success else ERROR_BODY_BYTES, success
                    )
                except (aiohttp.ClientError, TimeoutError) as error:
                    raise self._failure(registry, error) from error
                return Fetched(response.status, response.headers, body)

        return await self._retrying(registry, attempt)

    @asynccontextmanager
    async def stream(
        self, registry: str, url: URL, *, headers: Mapping[str, str]
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """GET with retries until an answer arrives; the registry's slot is held until exit.

        Failures while the body is read are not retried: the caller already has part of it.
        """
        request = _Request(registry, "GET", url, headers, None, streaming=True)
        response, held = await self._retrying(registry, lambda: self._open(request))
        async with held:
            try:
                yield response
            except (aiohttp.ClientError, TimeoutError) as error:
                failure = self._failure(registry, error)
                if isinstance(failure, _Transient):
                    failure = RegistryUnavailable(
                        f"registry {registry} is unreachable: {failure.reason}", registry=registry
                    )
                raise failure from error

    async def _retrying(self, registry: str, attempt: Callable[[], Awaitable[T]]) -> T:
        settings = self._settings
        failure = _Transient("no attempt made")
        for retry in range(settings.max_retries + 1):
            try:
                return await attempt()
            except _Transient as transient:
                failure = transient
            if retry == settings.max_retries:
                break
            if failure.retry_after is not None:
                if failure.retry_after > settings.max_retry_after_s:
                    break  # asked to wait longer than we would: give up now, pass the wait on
                delay = failure.retry_after
            else:
                delay = min(
                    backoff_delay(retry, settings.backoff_base_s), settings.max_retry_after_s
                )
            log.info("registry %s: %s; retrying in %.1fs", registry, failure.reason, delay)
            await asyncio.sleep(delay)
        raise RegistryUnavailable(
            f"registry {registry} is unreachable: {failure.reason}",
            registry=registry,
            retry_after=failure.retry_after,
        )

    async def _open(self, request: _Request) -> tuple[aiohttp.ClientResponse, AsyncExitStack]:
        """One attempt: take the registry's slot, send (following redirects).

        Returns the answer and what to exit to release it and the slot.
        """
        held = AsyncExitStack()
        await held.enter_async_context(self._semaphore(request.registry))
        try:
            response = await self._follow(request)
        except BaseException:
            await held.aclose()
            raise
        held.callback(response.release)
        if response.status in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            reason = f"HTTP {response.status} {response.reason or ''}".rstrip()
            await held.aclose()
            raise _Transient(reason, retry_after)
        return response, held

    async def _follow(self, request: _Request) -> aiohttp.ClientResponse:
        # Redirects are followed here rather than by aiohttp so that it is plain that the
        # Authorization header never leaves the origin it was meant for (blob storage hosts).
        registry, method, url, data = request.registry, request.method, request.url, request.data
        timeout = self._stream_timeout if request.streaming else self._timeout
        origin = url.origin()
        sent: dict[str, str] = dict(request.headers)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                self._policy.check_literal(url)
                response = await self._client().request(
                    method,
                    url,
                    headers=sent,
                    data=data,
                    timeout=timeout,
                    allow_redirects=False,
                )
            except RefusedDestination:
                raise self._refused(registry, url) from None
            except (aiohttp.ClientError, TimeoutError, ssl.SSLError) as error:
                raise self._failure(registry, error) from error
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                return response
            response.release()
            try:
                url = response.url.join(URL(location))
            except ValueError:
                raise RegistryProtocolError(
                    f"registry {registry} redirected to an invalid location", registry=registry
                ) from None
            if url.origin() != origin:
                sent.pop("Authorization", None)
                if data is not None and response.status in (307, 308):
                    # the form of a token request carries credentials (a refresh token)
                    raise RegistryProtocolError(
                        f"registry {registry} redirected a token request to another host",
                        registry=registry,
                    )
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, data = "GET", None
        raise RegistryProtocolError(
            f"registry {registry} redirected more than {MAX_REDIRECTS} times", registry=registry
        )

    def _refused(self, registry: str, url: URL) -> DestinationRefused:
        # One message whatever the address is and whether anything listens there, so that
        # scanning cannot be used to map internal hosts and ports.
        reason = (
            "it resolves to a loopback, private or link-local address "
            "(allow it with IMAGE_SERVICE_REGISTRY_ALLOWLIST)"
        )
        if url.origin() == self.base_url(registry).origin():
            message = f'registry "{registry}" is not allowed: {reason}'
        else:
            message = (
                f'registry "{registry}" sent the request on to "{url.host_port_subcomponent}", '
                f"which is not allowed: {reason}"
            )
        return DestinationRefused(message, registry=registry)

    def _failure(self, registry: str, error: BaseException) -> ScanError | _Transient:
        """What an aiohttp/ssl error means: a final ScanError, or a _Transient to retry."""
        certificate_error = _certificate_error(error)
        if certificate_error is not None:
            return RegistryUnavailable(
                f"registry {registry} is unreachable: its TLS certificate could not be verified "
                f"({certificate_error}); add its CA to the registry CA bundle",
                registry=registry,
            )
        if isinstance(error, TimeoutError):
            seconds = self._settings.request_timeout_s
            if isinstance(error, aiohttp.ConnectionTimeoutError):
                seconds = self._settings.connect_timeout_s
            return RegistryTimeout(
                f"registry {registry} did not answer within {seconds:g}s", registry=registry
            )
        if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
            return RegistryUnavailable(
                f"registry {registry} is unreachable: TLS failed ({error})", registry=registry
            )
        if isinstance(error, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError | OSError):
            return _Transient(str(error) or type(error).__name__)
        return RegistryProtocolError(
            f"registry {registry} could not be asked: {error}", registry=registry
        )

    def _semaphore(self, registry: str) -> asyncio.Semaphore:
        semaphore = self._semaphores.get(registry)
        if semaphore is None:
            semaphore = asyncio.Semaphore(self._settings.per_registry_concurrency)
            self._semaphores[registry] = semaphore
        return semaphore

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop; trust_env stays off so that neither
        # proxies nor ~/.netrc credentials slip into requests unannounced.
        if self._session is None:
            self._resolver = GuardedResolver(self._policy)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl, resolver=self._resolver),
                headers=_DEFAULT_HEADERS,
                auto_decompress=False,
                trust_env=False,
            )
        return self._session


def _ssl_setting(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """True (aiohttp's default verification) or a context that also trusts the bundle.

    Raises:
        ValueError: the bundle cannot be loaded.
    """
    if not ca_bundle:
        return True
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(f"cannot load the registry CA bundle {ca_bundle}: {error}") from None
    return context


def _certificate_error(error: BaseException) -> str | None:
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        error = error.certificate_error
    if isinstance(error, ssl.SSLCertVerificationError):
        return error.verify_message or str(error)
    if isinstance(error, ssl.CertificateError):
        return str(error)
    return None


async def _read_body(response: aiohttp.ClientResponse, limit: int, strict: bool) -> bytes:
    """At most `limit` bytes: more raises ResponseTooLarge when `strict`, else is cut off."""
    if response.method == "HEAD":
        return b""  # Content-Length describes the GET body
    if strict and response.content_length is not None and response.content_length > limit:
        raise ResponseTooLarge(limit)
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        room = limit - len(body)
        if len(chunk) > room:
            if strict:
                raise ResponseTooLarge(limit)
            body += chunk[:room]
            break
        body += chunk
    return bytes(body)
