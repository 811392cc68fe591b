"""Reproducible layer blobs: tar entries with a fixed mtime and root ownership, gzip without a
timestamp, zstd, or no compression, each hashed for the manifest (digest) and config (diff_id)."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.support.oci.media_types import LAYER_MEDIA_TYPES, Compression, sha256_digest

MTIME = 1704164645  # 2024-01-02T03:04:05Z, the mtime of every built tar entry
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Blob:
    """A layer blob as pushed: the (compressed) bytes and the digests a manifest and config need."""

    data: bytes
    digest: str  # "sha256:<hex>" of data
    media_type: str
    diff_id: str  # "sha256:<hex>" of the uncompressed tar
    size: int  # len(data)


class _Compressor:
    """Streams bytes through gzip, zstd or nothing, hashing input (diff_id) and output (digest)."""

    def __init__(self, compression: Compression, level: int | None) -> None:
        self.compression = compression
        self.raw_hash = hashlib.sha256()
        self.out = io.BytesIO()
        self._gzip: Any = None
        self._zstd_process: subprocess.Popen[bytes] | None = None
        self._zstd_out: Any = None
        self._zstd_obj: Any = None
        if compression == "gzip":
            # wbits 31 writes a gzip wrapper with mtime 0: the same input gives the same bytes.
            self._gzip = zlib.compressobj(6 if level is None else level, zlib.DEFLATED, 31)
        elif compression == "zstd":
            try:
                import zstandard  # noqa: PLC0415 - optional: falls back to the zstd CLI
            except ImportError:
                self._zstd_out = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish()
                self._zstd_process = subprocess.Popen(  # noqa: S603
                    ["zstd", "-q", "-c", f"-{3 if level is None else level}", "--no-check"],  # noqa: S607
                    stdin=subprocess.PIPE,
                    stdout=self._zstd_out,
                )
            else:
                compressor = zstandard.ZstdCompressor(level=3 if level is None else level)
                self._zstd_obj = compressor.compressobj()
        elif compression != "none":
            raise ValueError(f"unknown compression {compression!r}")

    def write(self, chunk: bytes) -> None:
        self.raw_hash.update(chunk)
        if self._gzip is not None:
            self.out.write(self._gzip.compress(chunk))
        elif self._zstd_obj is not None:
            self.out.write(self._zstd_obj.compress(chunk))
        elif self._zstd_process is not None:
            assert self._zstd_process.stdin is not None
            self._zstd_process.stdin.write(chunk)
        else:
            self.out.write(chunk)

    def finish(self, media_type: str | None) -> Blob:
        if self._gzip is not None:
            self.out.write(self._gzip.flush())
        elif self._zstd_obj is not None:
            self.out.write(self._zstd_obj.flush())
        elif self._zstd_process is not None:
            assert self._zstd_process.stdin is not None
            self._zstd_process.stdin.close()
            if self._zstd_process.wait() != 0:
                raise RuntimeError(f"zstd exited with status {self._zstd_process.returncode}")
            self._zstd_out.seek(0)
            self.out.write(self._zstd_out.read())
            self._zstd_out.close()
        data = self.out.getvalue()
        return Blob(
            data=data,
            digest=sha256_digest(data),
            media_type=media_type or LAYER_MEDIA_TYPES[self.compression],
            diff_id="sha256:" + self.raw_hash.hexdigest(),
            size=len(data),
        )


def layer_from_chunks(
    chunks: Iterable[bytes],
    compression: Compression = "gzip",
    *,
    media_type: str | None = None,
    level: int | None = None,
) -> Blob:
    """A layer blob from an uncompressed tar given as a stream of chunks (bombs need not fit in RAM
    uncompressed). `media_type` overrides the OCI type that `compression` implies."""
    compressor = _Compressor(compression, level)
    for chunk in chunks:
        compressor.write(chunk)
    return compressor.finish(media_type)


def layer_from_tar(
    tar: bytes,
    compression: Compression = "gzip",
    *,
    media_type: str | None = None,
    level: int | None = None,
) -> Blob:
    """A layer blob from ready uncompressed tar bytes (hand-made or malformed archives)."""
    return layer_from_chunks([tar], compression, media_type=media_type, level=level)


def _tar_info(path: str, kind: bytes, *, size: int = 0, mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path.lstrip("/"))
    info.type = kind
    info.size = size
    info.mode = mode
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def zero_file_tar_chunks(files: Iterable[tuple[str, int]], chunk: int = _CHUNK) -> Iterator[bytes]:
    """An uncompressed tar, streamed, holding regular files of the given sizes full of zero bytes.

    With `layer_from_chunks` this builds decompression bombs: a GiB of zeros gzips to about a MiB.
    """
    zeros = bytes(chunk)
    for path, size in files:
        yield _tar_info(path, tarfile.REGTYPE, size=size).tobuf(format=tarfile.PAX_FORMAT)
        remaining = size
        while remaining > 0:
            step = min(remaining, chunk)
            yield zeros[:step]
            remaining -= step
        if size % tarfile.BLOCKSIZE:
            yield bytes(tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE)
    yield bytes(2 * tarfile.BLOCKSIZE)


class LayerBuilder:
    """Collects tar entries, in order, and builds a reproducible layer blob from them.

    Paths are stored as given minus a leading "/" (so "etc/os-release" or "/etc/os-release").
    Parent directories are not added implicitly; use `add_dir` where a test wants them.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[tarfile.TarInfo, bytes | None]] = []

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> LayerBuilder:
        self._entries.append((_tar_info(path, tarfile.REGTYPE, size=len(data), mode=mode), data))
        return self

    def add_dir(self, path: str, mode: int = 0o755) -> LayerBuilder:
        self._entries.append((_tar_info(path.rstrip("/"), tarfile.DIRTYPE, mode=mode), None))
        return self

    def add_symlink(self, path: str, target: str) -> LayerBuilder:
        info = _tar_info(path, tarfile.SYMTYPE, mode=0o777)
        info.linkname = target
        self._entries.append((info, None))
        return self

    def add_hardlink(self, path: str, target: str) -> LayerBuilder:
        """A hard link; `target` is the archive path of an earlier entry."""
        info = _tar_info(path, tarfile.LNKTYPE)
        info.linkname = target.lstrip("/")
        self._entries.append((info, None))
        return self

    def add_whiteout(self, path: str) -> LayerBuilder:
        """Delete `path` from lower layers: an empty file `dir/.wh.name`."""
        parent, _, name = path.strip("/").rpartition("/")
        return self.add_file(f"{parent}/.wh.{name}" if parent else f".wh.{name}", b"")

    def add_opaque(self, directory: str) -> LayerBuilder:
        """Hide everything lower layers put in `directory`: an empty `dir/.wh..wh..opq`."""
        return self.add_file(f"{directory.strip('/')}/.wh..wh..opq", b"")

    def tar(self) -> bytes:
        """The uncompressed tar archive."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, data in self._entries:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
        return buffer.getvalue()

    def build(
        self,
        compression: Compression = "gzip",
        *,
        media_type: str | None = None,
        level: int | None = None,
    ) -> Blob:
        """The layer blob; media type is the OCI one for `compression` unless `media_type` says."""
        return layer_from_tar(self.tar(), compression, media_type=media_type, level=level)
