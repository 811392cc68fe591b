"""What reading one layer leaves behind: parsed interesting files, whiteouts, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.scanner.model import OperatingSystem, PackageKind

# which parser an interesting path goes to
FileKind = Literal[
    "os-release", "dpkg", "dpkg-files", "apk", "rpm", "rpm-wal", "python", "npm", "go", "java"
]
Compression = Literal["gzip", "zstd", "none"]


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """One package as its database or metadata file states it (the layer is known later)."""

    kind: PackageKind
    name: str
    version: str
    source_name: str
    source_version: str = ""
    license: str = ""
    arch: str = ""
    # a package found inside an archive member of the file (a jar in a war): the member's path
    # in it, deeper levels joined with "!/" (`WEB-INF/lib/a.jar`, `lib/b.war!/WEB-INF/lib/c.jar`)
    within: str = ""


@dataclass(frozen=True, slots=True)
class PackageFile:
    """A package database or metadata file; it may list no package at all.

    `owned`: the paths an OS package database says its packages installed (dpkg's file lists,
    apk's `F:`/`R:` lines, RPM's file names), normalized. A language package found at one of
    them came with an OS package and is reported as that package only.
    """

    kind: PackageKind
    records: tuple[PackageRecord, ...]
    owned: frozenset[str] = frozenset()
    # what part of the file could not be read (a nested archive over a limit): the records
    # stand, and the scan is partial as for an Unreadable file
    partial: str = ""


@dataclass(frozen=True, slots=True)
class OsRelease:
    os: OperatingSystem


@dataclass(frozen=True, slots=True)
class Symlink:
    """A symlink at an interesting path; `target` is normalized against the image root."""

    target: str


@dataclass(frozen=True, slots=True)
class Directory:
    """A directory where a file was expected (e.g. an `.egg-info` directory)."""


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An interesting file that was too big or did not parse; `reason` is for the user."""

    kind: FileKind
    reason: str


FileFinding = PackageFile | OsRelease | Symlink | Directory | Unreadable


@dataclass(slots=True)
class LayerFindings:
    """One layer's interesting files by normalized path, and what it removes from lower layers."""

    digest: str
    files: dict[str, FileFinding] = field(default_factory=dict)
    # paths removed by `.wh.<name>` entries (the removed path, not the marker's)
    whiteouts: list[str] = field(default_factory=list)
    # directories whose lower-layer contents are hidden by `.wh..wh..opq` ("" is the root)
    opaque_dirs: list[str] = field(default_factory=list)
    file_count: int = 0
    inflated_bytes: int = 0
    compression: Compression = "none"
    # remarks about the layer as a whole, e.g. a media type that lies about compression
    notes: list[str] = field(default_factory=list)
