"""What the scan services need from outside: a registry, and the canonical form of an image.

The implementations (app.scanner.registry.RegistryClient, schemas.image.normalize_image) are
passed in where the services are built, so the services import neither HTTP nor the wire schemas.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from app.scanner.model import Descriptor, ResolvedImage
from app.scanner.reference import ImageReference


class ImageRegistry(Protocol):
    """The registry calls of a scan (errors: subclasses of app.scanner.errors.ScanError)."""

    async def resolve(self, ref: ImageReference) -> ResolvedImage:
        """The reference's manifest for the configured platform, and its parsed config."""
        ...

    async def head_digest(self, ref: ImageReference) -> str:
        """The digest the reference's tag points to now."""
        ...

    def open_blob(
        self, ref: ImageReference, descriptor: Descriptor, *, max_bytes: int | None = None
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """A blob's bytes, checked against its digest when iterated to the end."""
        ...


class ImageNormalizer(Protocol):
    """The canonical stored form of a wire-shaped image (schemas.image.normalize_image)."""

    def __call__(self, raw: Mapping[str, Any], /) -> dict[str, Any]: ...
