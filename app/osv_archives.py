"""Ecosystem archives over HTTP, in osv.dev's bucket layout: `<base>/<ecosystem>/all.zip`.

The base URL is the operator's (IMAGE_SERVICE_VULNDB_URL), never a caller's: scanning's
outbound policy (app/scanner/registry/outbound.py), which keeps callers from steering requests
to internal addresses, does not apply, and an internal mirror is a valid choice. What does apply
is the service's client discipline: TLS verified (the system's CA store; SSL_CERT_FILE adds
others), time limits, a size limit, no proxy or ~/.netrc from the environment, no credentials at
all (the URL may not carry any), and no redirect from HTTPS down to plain HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path
from types import TracebackType

import aiohttp
from yarl import URL

from app.config import Settings
from app.services.feed_source import Downloaded, DownloadFailed, Validators

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
MAX_REDIRECTS = 5
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0  # the longest wait for the next bytes
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {"User-Agent": "image-service", "Accept-Encoding": "identity"}


class OsvArchives:
    """Fetches archives to files: conditional requests, a size and a time limit, sha256."""

    def __init__(self, base_url: str, *, max_bytes: int, timeout_s: float) -> None:
        self._base = URL(base_url.rstrip("/"))
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(
            total=timeout_s, sock_connect=CONNECT_TIMEOUT_S, sock_read=READ_TIMEOUT_S
        )
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OsvArchives:
        return cls(
            settings.vulndb_url,
            max_bytes=settings.vulndb_max_download_bytes,
            timeout_s=settings.vulndb_download_timeout_s,
        )

    async def __aenter__(self) -> OsvArchives:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url(self, ecosystem: str) -> str:
        return str(self._url(ecosystem))

    def _url(self, ecosystem: str) -> URL:
        return self._base / ecosystem / "all.zip"  # quoted: "Rocky Linux" -> Rocky%20Linux

    async def fetch(
        self, ecosystem: str, known: Validators | None, dest: Path
    ) -> Downloaded | None:
        url = self._url(ecosystem)
        headers = dict(_HEADERS)
        if known is not None and known.etag:
            headers["If-None-Match"] = known.etag
        if known is not None and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        try:
            async with self._get(url, headers) as response:
                if response.status == 304 and known is not None:
                    return None
                if response.status != 200:
                    raise DownloadFailed(f"{url} answered HTTP {response.status}")
                return await self._save(url, response, dest)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                reason = "timed out"
            raise DownloadFailed(f"{url} could not be fetched: {reason}") from None

    def _get(self, url: URL, headers: dict[str, str]) -> _Followed:
        return _Followed(self._client(), url, headers, self._timeout)

    async def _save(self, url: URL, response: aiohttp.ClientResponse, dest: Path) -> Downloaded:
        """The body to `dest`, whole (as long as announced), within the size limit; checked
        against the MD5 that Google Cloud Storage announces in `x-goog-hash`, when it does."""
        announced = response.content_length
        if announced is not None and announced > self._max_bytes:
            raise DownloadFailed(f"{url} is {announced} bytes, more than {self._max_bytes}")
        sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        cut = False
        with dest.open("wb") as out:
            try:
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise DownloadFailed(f"{url} is more than {self._max_bytes} bytes")
                    sha256.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
            except aiohttp.ClientPayloadError:  # the connection closed before the end
                cut = True
        if cut or (announced is not None and size != announced):
            of = "" if announced is None else f" of {announced}"
            raise DownloadFailed(f"{url} ended after {size}{of} bytes")
        expected = _goog_md5(response.headers.getall("x-goog-hash", []))
        if expected is not None and expected != md5.digest():
            raise DownloadFailed(f"{url} does not match the MD5 its server announced")
        validators = Validators(response.headers.get("ETag"), response.headers.get("Last-Modified"))
        return Downloaded(dest, size, sha256.hexdigest(), validators)

    def _client(self) -> aiohttp.ClientSession:
        # created on first use, inside the running loop; trust_env off: no proxy or netrc
        # credentials from the environment
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=_HEADERS, auto_decompress=False, trust_env=False
            )
        return self._session


class _Followed:
    """`async with`: the answer to a GET after following redirects (never HTTPS to HTTP)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: URL,
        headers: dict[str, str],
        timeout: aiohttp.ClientTimeout,
    ) -> None:
        self._session = session
        self._url = url
        self._headers = headers
        self._timeout = timeout
        self._response: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> aiohttp.ClientResponse:
        url = self._url
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._session.get(
                url, headers=self._headers, timeout=self._timeout, allow_redirects=False
            )
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                self._response = response
                return response
            response.release()
            try:
                target = response.url.join(URL(location))
            except ValueError:
                raise DownloadFailed(f"{url} redirected to an invalid location") from None
            if url.scheme == "https" and target.scheme != "https":
                raise DownloadFailed(f"{url} redirected from HTTPS to {target.scheme}")
            url = target
        raise DownloadFailed(f"{self._url} redirected more than {MAX_REDIRECTS} times")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response.release()


def _goog_md5(values: list[str]) -> bytes | None:
    """The MD5 in `x-goog-hash: crc32c=…, md5=…` (base64), if any."""
    for value in values:
        for part in value.split(","):
            name, _, encoded = part.strip().partition("=")
            if name == "md5" and encoded:
                try:
                    return base64.b64decode(encoded, validate=True)
                except ValueError:
                    return None
    return None
