"""How much one layer may cost before it is refused as a bomb."""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True, slots=True)
class LayerLimits:
    """Per-layer limits; breaking one raises LayerLimitExceeded."""

    max_compressed_bytes: int = 2 * GiB
    max_inflated_bytes: int = 8 * GiB
    # tar entries of any kind, directories and whiteouts included
    max_files: int = 1_000_000
    # a bigger package database, os-release or metadata file is noted and skipped, not read
    max_interesting_file_bytes: int = 64 * MiB
    # inflating more than this many times the compressed bytes read so far is a bomb, but only
    # once past min_bytes_for_ratio: small runs of zeros are legitimately very compressible
    max_compression_ratio: float = 200.0
    min_bytes_for_ratio: int = 1 * GiB
    # Go: the bytes of one executable searched for Go build information as the tar stream
    # passes (in 1 MiB pieces, never held whole); a Go binary bigger than this is noted
    max_go_binary_bytes: int = 512 * MiB
    # Java archives (.jar/.war/.ear) need random access: each is copied to a temporary file
    # (in memory up to 8 MiB), and a bigger one than this is noted and skipped
    max_java_archive_bytes: int = 512 * MiB
    # entries in one archive's central directory (each costs memory once the archive is opened)
    max_java_archive_entries: int = 100_000
    # bytes inflated from one member (a nested archive, a manifest): zip bombs stop here
    max_java_member_bytes: int = 64 * MiB
    # bytes inflated from all members of one outer archive, nested ones included
    max_java_inflated_bytes: int = 1 * GiB
    # manifests, pom.properties and nested archives read from one outer archive, all depths
    max_java_members_read: int = 10_000
    # archives inside archives: an .ear's .war's WEB-INF/lib jar is at depth 2
    max_java_nesting: int = 3


def format_size(size: int) -> str:
    """`8 GiB`, `64 MiB`, `1.5 KiB`, `12 bytes`."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"
