"""Values passed between the registry client, the layer analysis and the matcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.scanner.reference import ImageReference

DEFAULT_PLATFORM = "linux/amd64"


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor: what a manifest says about a blob it points to."""

    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedImage:
    """A reference resolved by the registry to one platform's manifest and its config."""

    reference: ImageReference
    # what the tag (or the digest in the name) points to: an index/list or a manifest
    top_digest: str
    # the platform manifest chosen (equals top_digest when there was no index)
    manifest_digest: str
    manifest_media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    # the parsed config blob (its digest verified)
    config_json: dict[str, Any]
    # which credentials served it, e.g. "anonymous" or "config.json auth for registry.example"
    data_source: str


ComponentSource = Literal["OS", "PYTHON", "NODEJS", "GO", "JAVA"]
PackageKind = Literal["dpkg", "apk", "rpm", "python", "npm", "go", "java"]
# Package kinds an operating system's package manager installs (matched against the
# distribution's advisories); every other kind is a language package.
OS_KINDS: frozenset[PackageKind] = frozenset({"dpkg", "apk", "rpm"})
_SOURCES: dict[str, ComponentSource] = {
    "dpkg": "OS",
    "apk": "OS",
    "rpm": "OS",
    "python": "PYTHON",
    "npm": "NODEJS",
    "go": "GO",
    "java": "JAVA",
}


@dataclass(frozen=True, slots=True)
class InstalledPackage:
    """One installed package found in the image's layers."""

    kind: PackageKind
    name: str  # binary package name (dpkg, apk) or distribution/package name (Python, npm)
    version: str
    # the name advisories are filed under: dpkg Source / apk origin; the name itself otherwise
    source_name: str
    # index into the image's layers (0 = base) of the layer that introduced it
    layer: int
    # the file the package was found in, e.g. "var/lib/dpkg/status" or
    # "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"
    location: str
    license: str = ""
    # dpkg only, when it differs from `version` (binNMUs): the version in "Source: name (version)"
    source_version: str = ""
    # the architecture the package database records (OS packages), e.g. "amd64", "x86_64"
    arch: str = ""

    @property
    def source(self) -> ComponentSource:
        return _SOURCES[self.kind]


@dataclass(frozen=True, slots=True)
class OperatingSystem:
    """From os-release: `id` and `version_id` as written there."""

    id: str
    version_id: str
    pretty_name: str = ""
    version_codename: str = ""


@dataclass(slots=True)
class Inventory:
    """What the layers hold once every whiteout is applied."""

    os: OperatingSystem | None
    packages: list[InstalledPackage] = field(default_factory=list)
    # things the analysis could not tell, said plainly (logged; see scan.notes)
    notes: list[str] = field(default_factory=list)
    # package data present but unreadable (too big, malformed): the scan is partial
    unreadable: list[str] = field(default_factory=list)
    # the OS package databases present in the final view (their paths), read or not
    os_databases: list[str] = field(default_factory=list)
