"""Image references parsed and normalized by the Docker distribution reference rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_MAX_NAME_LENGTH = 255

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*"
    r"(?::[0-9]+)?\Z|\[[a-fA-F0-9:]+\](?::[0-9]+)?\Z"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}\Z")
_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


class InvalidReference(ValueError):
    """The text is not a valid image reference; the message says why."""


@dataclass(frozen=True, slots=True)
class ImageReference:
    registry: str
    remote: str
    tag: str
    digest: str

    @property
    def full_name(self) -> str:
        name = f"{self.registry}/{self.remote}"
        if self.tag:
            name += f":{self.tag}"
        if self.digest:
            name += f"@{self.digest}"
        return name


def parse_reference(text: str) -> ImageReference:
    """Parse `[registry/]remote[:tag][@digest]`, filling Docker's defaults.

    Raises:
        InvalidReference: the text is empty or breaks the reference grammar.
    """
    if not text:
        raise InvalidReference("invalid reference format: empty name")
    name, digest = _split_digest(text)
    name, tag = _split_tag(name)
    registry, remote = _split_registry(name)
    if len(remote) > _MAX_NAME_LENGTH:
        raise InvalidReference(
            f"repository name must not be more than {_MAX_NAME_LENGTH} characters"
        )
    if registry == DEFAULT_REGISTRY and "/" not in remote:
        remote = f"library/{remote}"
    if not tag and not digest:
        tag = DEFAULT_TAG
    return ImageReference(registry=registry, remote=remote, tag=tag, digest=digest)


def _split_digest(text: str) -> tuple[str, str]:
    if "@" not in text:
        return text, ""
    name, digest = text.split("@", 1)
    algorithm, _, hex_part = digest.partition(":")
    expected = _HEX_LENGTH.get(algorithm)
    if not _DIGEST.match(digest) or (
        expected and not re.fullmatch(f"[a-f0-9]{{{expected}}}", hex_part)
    ):
        raise InvalidReference("invalid checksum digest format")
    return name, digest


def _split_tag(name: str) -> tuple[str, str]:
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon <= slash:
        return name, ""
    tag = name[colon + 1 :]
    if not _TAG.match(tag):
        raise InvalidReference("invalid reference format")
    return name[:colon], tag


def _split_registry(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and (("." in first or ":" in first) or first == "localhost" or first != first.lower()):
        if not _DOMAIN.match(first):
            raise InvalidReference("invalid reference format")
        registry, remote = first, rest
    else:
        registry, remote = DEFAULT_REGISTRY, name
    if registry == "index.docker.io":
        registry = DEFAULT_REGISTRY
    for component in remote.split("/"):
        if not _COMPONENT.match(component):
            if component.lower() != component and _COMPONENT.match(component.lower()):
                raise InvalidReference(
                    f"invalid reference format: repository name ({remote}) must be lowercase"
                )
            raise InvalidReference("invalid reference format")
    return registry, remote
