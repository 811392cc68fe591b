"""Hand-made layer bytes for the layer reader's unit tests: tar entries (whiteouts included),
gzip, zstd, and chunked delivery. Unlike `layers`, entries may be odd (fifos, GNU format)."""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Literal

import zstandard

from tests.support.oci.media_types import (
    DOCKER_LAYER_GZIP,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_LAYER_ZSTD,
)

# the short names the layer reader's tests use
OCI_TAR = OCI_LAYER_TAR
OCI_GZIP = OCI_LAYER_GZIP
OCI_ZSTD = OCI_LAYER_ZSTD
DOCKER_GZIP = DOCKER_LAYER_GZIP
DIGEST = "sha256:" + "d" * 64


@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes = b""
    type: Literal["file", "dir", "symlink", "hardlink", "fifo"] = "file"
    target: str = ""


def file(name: str, data: bytes | str) -> Entry:
    return Entry(name, data.encode() if isinstance(data, str) else data)


def directory(name: str) -> Entry:
    return Entry(name, type="dir")


def symlink(name: str, target: str) -> Entry:
    return Entry(name, type="symlink", target=target)


def hardlink(name: str, target: str) -> Entry:
    return Entry(name, type="hardlink", target=target)


def whiteout(path: str) -> Entry:
    parent, _, name = path.rpartition("/")
    return file(f"{parent}/.wh.{name}" if parent else f".wh.{name}", b"")


def opaque(directory_path: str) -> Entry:
    return file(f"{directory_path}/.wh..wh..opq", b"")


_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def tar_bytes(entries: Iterable[Entry], *, tar_format: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = _TYPES[entry.type]
            info.linkname = entry.target
            info.mode = 0o755 if entry.type == "dir" else 0o644
            if entry.type == "file":
                info.size = len(entry.data)
                archive.addfile(info, io.BytesIO(entry.data))
            else:
                archive.addfile(info)
    return buffer.getvalue()


def gzip_bytes(data: bytes, *, members: int = 1, level: int = 6) -> bytes:
    """gzip `data`, split into `members` concatenated gzip members."""
    step = -(-len(data) // members) if data else 1
    out = []
    for start in range(0, max(len(data), 1), step):
        compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
        out.append(compressor.compress(data[start : start + step]) + compressor.flush())
    return b"".join(out)


def zstd_bytes(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def zeros_layer(size: int, *, compression: Literal["gzip", "zstd"] = "gzip") -> bytes:
    """A layer holding one file of `size` zero bytes, compressed without ever holding it whole."""
    info = tarfile.TarInfo("zeros.bin")
    info.size = size
    compressor = (
        zlib.compressobj(6, zlib.DEFLATED, 31)
        if compression == "gzip"
        else zstandard.ZstdCompressor().compressobj()
    )
    out = [compressor.compress(info.tobuf(format=tarfile.PAX_FORMAT))]
    block = bytes(1 << 20)
    for start in range(0, size, len(block)):
        out.append(compressor.compress(block[: min(size - start, len(block))]))
    padding = -size % tarfile.BLOCKSIZE
    out.append(compressor.compress(bytes(padding + 2 * tarfile.BLOCKSIZE)))
    out.append(compressor.flush())
    return b"".join(out)


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
