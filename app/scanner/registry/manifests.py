"""Manifest kinds we accept or refuse, and parsing them into descriptors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.scanner.model import Descriptor
from app.scanner.registry.digests import is_supported_digest
from app.scanner.registry.platforms import Platform

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
# schema 1 is asked for too, so that such images are recognised and refused by name
ACCEPT = ", ".join(
    [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST, *sorted(SCHEMA1_TYPES)]
)
IMAGE_CONFIG_TYPES = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)


class ManifestFormatError(ValueError):
    """The document is not a well-formed manifest of its kind."""


@dataclass(frozen=True, slots=True)
class IndexEntry:
    descriptor: Descriptor
    platform: Platform | None


@dataclass(frozen=True, slots=True)
class ImageIndex:
    media_type: str
    entries: tuple[IndexEntry, ...]

    def platforms(self) -> list[str]:
        """The entries' platforms, as text, without attestation placeholders (unknown/unknown)."""
        names = [str(e.platform) for e in self.entries if e.platform is not None]
        return sorted({n for n in names if n != "unknown/unknown"})


@dataclass(frozen=True, slots=True)
class ImageManifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


def decode_manifest(body: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """The manifest's media type and its JSON object.

    The `mediaType` field wins over `Content-Type`; without either the shape decides.

    Raises:
        ManifestFormatError: not a JSON object.
    """
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestFormatError(f"not JSON ({error})") from None
    if not isinstance(document, dict):
        raise ManifestFormatError("not a JSON object")
    return _media_type(document, content_type), document


def _media_type(document: dict[str, Any], content_type: str) -> str:
    declared = document.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    if document.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1_SIGNED if "signatures" in document else DOCKER_SCHEMA1
    header = content_type.split(";", 1)[0].strip().lower()
    if header in INDEX_TYPES | IMAGE_MANIFEST_TYPES | SCHEMA1_TYPES:
        return header
    if "manifests" in document:
        return OCI_INDEX
    if "config" in document and "layers" in document:
        return OCI_MANIFEST
    return header or "unknown"


def parse_index(document: dict[str, Any], media_type: str) -> ImageIndex:
    """Raises: ManifestFormatError."""
    manifests = document.get("manifests")
    if not isinstance(manifests, list):
        raise ManifestFormatError("`manifests` is not a list")
    entries = []
    for item in manifests:
        descriptor = parse_descriptor(item, "manifests[]")
        platform = item.get("platform")
        entries.append(
            IndexEntry(
                descriptor,
                Platform.from_descriptor(platform) if isinstance(platform, dict) else None,
            )
        )
    return ImageIndex(media_type, tuple(entries))


def parse_image_manifest(document: dict[str, Any], media_type: str) -> ImageManifest:
    """Raises: ManifestFormatError."""
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise ManifestFormatError("`layers` is not a list")
    return ImageManifest(
        media_type=media_type,
        config=parse_descriptor(document.get("config"), "config"),
        layers=tuple(parse_descriptor(layer, "layers[]") for layer in layers),
    )


def parse_descriptor(value: Any, where: str) -> Descriptor:
    """Raises: ManifestFormatError naming `where`."""
    if not isinstance(value, dict):
        raise ManifestFormatError(f"{where} is not an object")
    media_type = value.get("mediaType", "")
    digest = value.get("digest")
    size = value.get("size")
    urls = value.get("urls") or []
    if not isinstance(media_type, str):
        raise ManifestFormatError(f"{where}.mediaType is not a string")
    if not isinstance(digest, str) or not is_supported_digest(digest):
        raise ManifestFormatError(f"{where}.digest {digest!r} is not a sha256/384/512 digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestFormatError(f"{where}.size {size!r} is not a byte count")
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise ManifestFormatError(f"{where}.urls is not a list of strings")
    return Descriptor(media_type=media_type, digest=digest, size=size, urls=tuple(urls))
