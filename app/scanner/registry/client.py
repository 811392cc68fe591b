"""RegistryClient: resolve an image reference to its platform manifest and config, and stream
blobs, over the OCI distribution API v2."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from app.scanner.errors import (
    DigestMismatch,
    ManifestUnknown,
    RegistryProtocolError,
    UnsupportedManifest,
)
from app.scanner.model import Descriptor, ResolvedImage
from app.scanner.reference import ImageReference
from app.scanner.registry import digests
from app.scanner.registry.answers import bad_status, display_name, not_found
from app.scanner.registry.auth import Authenticator, Authorization
from app.scanner.registry.authorized import AuthorizedRequests
from app.scanner.registry.blobs import BlobStream, blob_chunks, too_large
from app.scanner.registry.credentials import CredentialStore, load_credentials
from app.scanner.registry.manifests import (
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
from app.scanner.registry.transport import Fetched, ResponseTooLarge, Transport

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Manifest:
    digest: str
    media_type: str
    document: dict[str, Any]
    authorization: Authorization


class RegistryClient(AbstractAsyncContextManager["RegistryClient"]):
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
        self._requests = AuthorizedRequests(self._transport, self._auth)

    async def close(self) -> None:
        await self._transport.close()

    async def __aexit__(self, *exc_info: object) -> None:
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
        url = self._requests.manifest_url(ref, reference)
        fetched, _ = await self._requests.fetch(ref, "HEAD", url, limit=0)
        if fetched.status == 404:
            raise not_found(ref, reference, fetched)
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
        return BlobStream(blob_chunks(self._requests, ref, descriptor, max_bytes))

    async def _read_config(self, ref: ImageReference, config: Descriptor) -> dict[str, Any]:
        limit = self.settings.max_config_bytes
        if config.size > limit:
            raise too_large(ref, config, limit, limit)
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
        url = self._requests.manifest_url(ref, reference)
        try:
            fetched, authorization = await self._requests.fetch(
                ref, "GET", url, limit=self.settings.max_manifest_bytes
            )
        except ResponseTooLarge as too_large:
            raise UnsupportedManifest(
                f"the manifest of {display_name(ref, reference)} is larger than the "
                f"{too_large.limit} bytes accepted",
                registry=host,
            ) from None
        if fetched.status != 200:
            raise bad_status(ref, reference, fetched, what="manifest")
        try:
            media_type, document = decode_manifest(
                fetched.body, fetched.headers.get("Content-Type", "")
            )
        except ManifestFormatError as error:
            raise RegistryProtocolError(
                f"registry {host} sent an invalid manifest for "
                f"{display_name(ref, reference)}: {error}",
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
