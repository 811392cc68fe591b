"""Which compression a layer uses: what its media type claims, and what its first bytes prove."""

from __future__ import annotations

from typing import Literal

from app.scanner.layers.findings import Compression

Sniffed = Compression | Literal["xz", "bzip2"]
# enough leading bytes for every signature below
SNIFF_BYTES = 10

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE = b"\x2a\x4d\x18"  # after a first byte of 0x50..0x5f
_XZ = b"\xfd7zXZ\x00"
_BZIP2_BLOCK = b"\x31\x41\x59\x26\x53\x59"


def declared_compression(media_type: str) -> Compression | None:
    """What an OCI or Docker layer media type claims; None for a media type that says nothing.

    Covers `…layer.v1.tar[+gzip|+zstd]`, the nondistributable variants and Docker's
    `…rootfs.diff.tar.gzip` / `…rootfs.foreign.diff.tar.gzip`.
    """
    base = media_type.split(";", 1)[0].strip().lower()
    if base.endswith(("+gzip", ".tar.gzip", ".tar.gz")):
        return "gzip"
    if base.endswith(("+zstd", ".tar.zstd")):
        return "zstd"
    if base.endswith(".tar"):
        return "none"
    return None


def sniff_compression(head: bytes) -> Sniffed:
    """The compression the leading bytes show; "none" means they may be a plain tar."""
    if head.startswith(_GZIP):
        return "gzip"
    if head.startswith(_ZSTD) or (head[:1] and head[0] >> 4 == 5 and head[1:4] == _ZSTD_SKIPPABLE):
        return "zstd"
    if head.startswith(_XZ):
        return "xz"
    if head.startswith(b"BZh") and head[3:4].isdigit() and head[4:10] == _BZIP2_BLOCK:
        return "bzip2"
    return "none"
