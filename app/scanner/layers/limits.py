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


def format_size(size: int) -> str:
    """`8 GiB`, `64 MiB`, `1.5 KiB`, `12 bytes`."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"
