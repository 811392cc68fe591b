"""RegistryClient: resolve an image reference to its platform manifest and config, and stream
blobs, over the OCI distribution API v2."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from app.scanner.errors import (
    DigestMismatch,
    LayerLimitExceeded,
    ManifestUnknown,
    RegistryProtocolError,
    UnsupportedManifest,
)
from app.scanner.model import Descriptor, ResolvedImage
from app.scanner.reference import ImageReference
from app.scanner.registry import digests
from app.scanner.registry.auth import Authenticator, Authorization
from app.scanner.registry.credentials import CredentialStore, load_credentials
from app.scanner.registry.manifests import (
    ACCEPT,
    IMAGE_CONFIG_TYPES,
    IMAGE_MANIFEST_TYPES,
    INDEX_TYPES,
    SCHEMA1_TYPES,
    ManifestFormatError,
    decode_manifest,
    parse_image_manifest,
    parse_index,
)
from app.scanner.registry.platforms import Platform, choose_platform
from app.scanner.registry.settings import RegistrySettings
from app.scanner.registry.transport import CHUNK_BYTES, Fetched, ResponseTooLarge, Transport

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Manifest:
    digest: str
    media_type: str
    document: dict[str, Any]
    authorization: Authorization


class BlobStream:
    """A blob's bytes in chunks of about 64 KiB, checked against its digest at the end.

    Iterate to the end (the check raises there), or use `async with` so that stopping early
    releases the connection and the registry's slot at once.
    """

    def __init__(self, chunks: AsyncGenerator[bytes, None]):
        self._chunks = chunks

    def __aiter__(self) -> BlobStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        await self._chunks.aclose()

    async def __aenter__(self) -> BlobStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class RegistryClient:
    """An OCI distribution v2 client holding one HTTP session; close it (or use `async with`)."""

    def __init__(
        self,
        settings: RegistrySettings | None = None,
        *,
        credentials: CredentialStore | None = None,
    ):
        """Raises: ValueError for a bad platform, CA bundle or credentials file."""
        self.settings = settings or RegistrySettings()
        self._platform = Platform.parse(self.settings.platform)
        if credentials is None:
            auth_file = self.settings.auth_file
            credentials = load_credentials(auth_file) if auth_file else CredentialStore()
        self._transport = Transport(self.settings)
        self._auth = Authenticator(self._transport, credentials)

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def resolve(self, ref: ImageReference) -> ResolvedImage:
        """The reference's manifest for the configured platform, and its parsed config.

        A reference with a digest is pulled by that digest (its tag is then only a name).

        Raises:
            ManifestUnknown, UnsupportedManifest, RegistryDenied, RegistryUnavailable,
            RegistryTimeout, RegistryProtocolError, DigestMismatch, LayerLimitExceeded.
        """
        top = await self._get_manifest(ref, ref.digest or ref.tag)
        manifest = top
        if top.media_type in INDEX_TYPES:
            index = self._parse(ref, top, parse_index)
            entries = ((entry.platform, entry) for entry in index.entries)
            chosen = choose_platform(entries, self._platform)
            if chosen is None:
                available = ", ".join(index.platforms()) or "none"
                raise ManifestUnknown(
                    f"no manifest for platform {self._platform} in {ref.full_name}; "
                    f"available: {available}",
                    registry=ref.registry,
                )
            manifest = await self._get_manifest(ref, chosen.descriptor.digest)
            if manifest.media_type in INDEX_TYPES:
                raise UnsupportedManifest(
                    f"{ref.full_name} nests an index inside an index, which is not supported",
                    registry=ref.registry,
                )
        if manifest.media_type not in IMAGE_MANIFEST_TYPES:
            raise UnsupportedManifest(
                f"{ref.full_name} is a {manifest.media_type}, not a container image manifest",
                registry=ref.registry,
            )
        image = self._parse(ref, manifest, parse_image_manifest)
        if image.config.media_type not in IMAGE_CONFIG_TYPES:
            raise UnsupportedManifest(
                f"{ref.full_name} is not a container image (its config is a "
                f"{image.config.media_type or 'blob without a media type'})",
                registry=ref.registry,
            )
        config_json = await self._read_config(ref, image.config)
        return ResolvedImage(
            reference=ref,
            top_digest=top.digest,
            manifest_digest=manifest.digest,
            manifest_media_type=manifest.media_type,
            config=image.config,
            layers=image.layers,
            config_json=config_json,
            data_source=self._auth.data_source(ref.registry, manifest.authorization),
        )

    async def head_digest(self, ref: ImageReference) -> str:
        """The digest the reference's tag points to now (HEAD; GET and hash if no header)."""
        reference = ref.tag or ref.digest
        fetched, _ = await self._fetch(ref, "HEAD", self._manifest_url(ref, reference), limit=0)
        if fetched.status == 404:
            raise self._not_found(ref, reference, fetched)
        header = fetched.headers.get("Docker-Content-Digest", "")
        if fetched.status == 200 and digests.is_supported_digest(header):
            return header
        return (await self._get_manifest(ref, reference)).digest

    def open_blob(
        self, ref: ImageReference, descriptor: Descriptor, *, max_bytes: int | None = None
    ) -> BlobStream:
        """Stream a blob of `ref`'s repository, verifying its digest incrementally.

        Iterating raises DigestMismatch at the end if the bytes do not hash to the digest (or
        fall short of descriptor.size), and LayerLimitExceeded as soon as more than
        descriptor.size or `max_bytes` arrive. The registry's slot is held while streaming.
        """
        return BlobStream(self._blob_chunks(ref, descriptor, max_bytes))

    async def _blob_chunks(
        self, ref: ImageReference, descriptor: Descriptor, max_bytes: int | None
    ) -> AsyncGenerator[bytes, None]:
        host = ref.registry
        try:
            hasher = digests.hasher_for(descriptor.digest)
        except ValueError as error:
            raise RegistryProtocolError(str(error), registry=host) from None
        limit = descriptor.size if max_bytes is None else min(descriptor.size, max_bytes)
        url = self._base(ref) / "blobs" / descriptor.digest
        received = 0
        async with self._stream(ref, url) as response:
            if response.status != 200:
                body = await response.content.read(CHUNK_BYTES)
                fetched = Fetched(response.status, response.headers, body)
                raise self._bad_status(ref, descriptor.digest, fetched, what="blob")
            if response.content_length is not None and response.content_length > limit:
                raise self._too_large(ref, descriptor, limit, max_bytes)
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                received += len(chunk)
                if received > limit:
                    raise self._too_large(ref, descriptor, limit, max_bytes)
                hasher.update(chunk)
                yield chunk
        algorithm = descriptor.digest.split(":", 1)[0]
        if received != descriptor.size or f"{algorithm}:{hasher.hexdigest()}" != descriptor.digest:
            raise DigestMismatch(
                f"blob {descriptor.digest} from registry {host} does not match its digest",
                registry=host,
            )

    async def _read_config(self, ref: ImageReference, config: Descriptor) -> dict[str, Any]:
        limit = self.settings.max_config_bytes
        if config.size > limit:
            raise self._too_large(ref, config, limit, limit)
        async with self.open_blob(ref, config, max_bytes=limit) as chunks:
            body = b"".join([chunk async for chunk in chunks])
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            document = None
        if not isinstance(document, dict):
            raise RegistryProtocolError(
                f"registry {ref.registry} sent a config for {ref.full_name} that is not a "
                "JSON object",
                registry=ref.registry,
            )
        return document

    async def _get_manifest(self, ref: ImageReference, reference: str) -> _Manifest:
        host = ref.registry
        url = self._manifest_url(ref, reference)
        try:
            fetched, authorization = await self._fetch(
                ref, "GET", url, limit=self.settings.max_manifest_bytes
            )
        except ResponseTooLarge as too_large:
            raise UnsupportedManifest(
                f"the manifest of {_name(ref, reference)} is larger than the "
                f"{too_large.limit} bytes accepted",
                registry=host,
            ) from None
        if fetched.status != 200:
            raise self._bad_status(ref, reference, fetched, what="manifest")
        try:
            media_type, document = decode_manifest(
                fetched.body, fetched.headers.get("Content-Type", "")
            )
        except ManifestFormatError as error:
            raise RegistryProtocolError(
                f"registry {host} sent an invalid manifest for {_name(ref, reference)}: {error}",
                registry=host,
            ) from None
        if media_type in SCHEMA1_TYPES:
            raise UnsupportedManifest(
                f"{ref.full_name} uses Docker schema 1 manifests, which are not supported; "
                "push it again with a current client",
                registry=host,
            )
        digest = self._verified_digest(ref, reference, fetched)
        return _Manifest(digest, media_type, document, authorization)

    def _verified_digest(self, ref: ImageReference, reference: str, fetched: Fetched) -> str:
        """The manifest's digest, after checking the body against every digest claimed for it."""
        claimed = [reference] if digests.is_supported_digest(reference) else []
        header = fetched.headers.get("Docker-Content-Digest", "")
        if digests.is_supported_digest(header):
            claimed.append(header)
        for digest in claimed:
            if not digests.matches(fetched.body, digest):
                raise DigestMismatch(
                    f"manifest {digest} from registry {ref.registry} does not match its digest",
                    registry=ref.registry,
                )
        return claimed[0] if claimed else digests.sha256_digest(fetched.body)

    def _parse(
        self,
        ref: ImageReference,
        manifest: _Manifest,
        parse: Callable[[dict[str, Any], str], T],
    ) -> T:
        try:
            return parse(manifest.document, manifest.media_type)
        except ManifestFormatError as error:
            raise RegistryProtocolError(
                f"registry {ref.registry} sent an invalid manifest {manifest.digest} for "
                f"{ref.full_name}: {error}",
                registry=ref.registry,
            ) from None

    async def _fetch(
        self, ref: ImageReference, method: str, url: URL, *, limit: int
    ) -> tuple[Fetched, Authorization]:
        """A manifest request, answering one auth challenge if the registry sends it."""
        host, remote = ref.registry, ref.remote
        authorization = await self._auth.authorization(host, remote)
        for challenged in (False, True):
            fetched = await self._transport.fetch(
                host, method, url, headers=_headers(authorization, ACCEPT), limit=limit
            )
            if fetched.status not in (401, 403):
                return fetched, authorization
            if challenged or fetched.status == 403:
                break
            challenges = fetched.headers.getall("WWW-Authenticate", [])
            authorization = await self._auth.answer(host, remote, challenges, authorization)
        raise self._auth.denied(host, remote, authorization)

    @asynccontextmanager
    async def _stream(self, ref: ImageReference, url: URL) -> AsyncIterator[aiohttp.ClientResponse]:
        """A blob GET held open, answering one auth challenge if the registry sends it."""
        host, remote = ref.registry, ref.remote
        authorization = await self._auth.authorization(host, remote)
        for challenged in (False, True):
            async with self._transport.stream(
                host, url, headers=_headers(authorization, None)
            ) as response:
                if response.status not in (401, 403):
                    yield response
                    return
                status = response.status
                challenges = response.headers.getall("WWW-Authenticate", [])
            if challenged or status == 403:
                break
            authorization = await self._auth.answer(host, remote, challenges, authorization)
        raise self._auth.denied(host, remote, authorization)

    def _base(self, ref: ImageReference) -> URL:
        return self._transport.base_url(ref.registry) / "v2" / ref.remote

    def _manifest_url(self, ref: ImageReference, reference: str) -> URL:
        return self._base(ref) / "manifests" / reference

    def _not_found(self, ref: ImageReference, reference: str, fetched: Fetched) -> ManifestUnknown:
        if "NAME_UNKNOWN" in _error_codes(fetched.body):
            message = f"repository {ref.registry}/{ref.remote} not found in registry {ref.registry}"
        else:
            message = f"manifest for {_name(ref, reference)} not found in registry {ref.registry}"
        return ManifestUnknown(message, registry=ref.registry)

    def _bad_status(
        self, ref: ImageReference, reference: str, fetched: Fetched, *, what: str
    ) -> ManifestUnknown | RegistryProtocolError:
        host = ref.registry
        if fetched.status == 404 and what == "manifest":
            return self._not_found(ref, reference, fetched)
        if fetched.status == 404:
            return ManifestUnknown(
                f"{what} {reference} of {ref.registry}/{ref.remote} not found in registry {host}",
                registry=host,
            )
        detail = "; ".join(_error_codes(fetched.body).values())
        return RegistryProtocolError(
            f"registry {host} answered HTTP {fetched.status} for the {what} of "
            f"{_name(ref, reference)}" + (f": {detail}" if detail else ""),
            registry=host,
        )

    def _too_large(
        self, ref: ImageReference, descriptor: Descriptor, limit: int, max_bytes: int | None
    ) -> LayerLimitExceeded:
        if max_bytes is not None and limit == max_bytes:
            reason = f"more than the {max_bytes}-byte limit"
        else:
            reason = f"more than the {descriptor.size} bytes its descriptor declares"
        return LayerLimitExceeded(
            f"blob {descriptor.digest} from registry {ref.registry} is {reason}",
            registry=ref.registry,
        )


def _headers(authorization: Authorization, accept: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if accept:
        headers["Accept"] = accept
    if authorization.header:
        headers["Authorization"] = authorization.header
    return headers


def _name(ref: ImageReference, reference: str) -> str:
    separator = "@" if digests.is_supported_digest(reference) else ":"
    return f"{ref.registry}/{ref.remote}{separator}{reference}"


def _error_codes(body: bytes) -> dict[str, str]:
    """The distribution error codes of an error answer, with their messages."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return {}
    return {
        str(error.get("code")): str(error.get("message") or error.get("code"))
        for error in errors
        if isinstance(error, dict) and error.get("code")
    }
