"""File-like readers between the received chunks and tarfile, bounded in memory and counted."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from typing import IO, cast

import zstandard

from app.scanner.errors import LayerLimitExceeded
from app.scanner.layers.limits import KiB, LayerLimits, MiB, format_size

_INPUT_STEP = 64 * KiB
_OUTPUT_STEP = 1 * MiB
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 47  # 32 + 15: a gzip (or zlib) header, the largest window


class ChunkReader:
    """The blob's bytes as they arrive, one chunk at a time; counts what it received."""

    def __init__(self, receive: Callable[[], bytes]) -> None:
        self._receive = receive
        self._buffer = b""
        self._offset = 0
        self._ended = False
        self.received = 0

    def peek(self, size: int) -> bytes:
        """Up to `size` bytes ahead, without consuming them (fewer only at the end)."""
        while len(self._buffer) - self._offset < size and self._pull():
            pass
        return self._buffer[self._offset : self._offset + size]

    def read(self, size: int = -1) -> bytes:
        """At most `size` bytes (all of the current chunk when negative); b"" at the end."""
        if self._offset >= len(self._buffer) and not self._pull():
            return b""
        end = len(self._buffer) if size < 0 else self._offset + size
        if self._offset == 0 and end >= len(self._buffer):
            piece = self._buffer  # the whole chunk: no copy
        else:
            piece = self._buffer[self._offset : end]
        self._offset += len(piece)
        return piece

    def _pull(self) -> bool:
        if self._ended:
            return False
        chunk = self._receive()
        if not chunk:
            self._ended = True
            return False
        self.received += len(chunk)
        self._buffer = self._buffer[self._offset :] + chunk
        self._offset = 0
        return True


class GzipInflater:
    """Inflates gzip data; concatenated members read as one stream, trailing zeros are allowed.

    Raises zlib.error on bad data and EOFError when the data stops inside a member.
    """

    def __init__(self, source: ChunkReader) -> None:
        self._source = source
        self._member: zlib._Decompress | None = zlib.decompressobj(_GZIP_WBITS)
        self._pending = b""

    def read(self, size: int) -> bytes:
        while True:
            if self._member is None and not self._next_member():
                return b""
            assert self._member is not None
            if not self._pending:
                self._pending = self._source.read(_INPUT_STEP)
                if not self._pending:
                    raise EOFError("the gzip data ends early")
            out = self._member.decompress(self._pending, size)
            if self._member.eof:
                self._pending = self._member.unused_data
                self._member = None
            else:
                self._pending = self._member.unconsumed_tail
            if out:
                return out

    def _next_member(self) -> bool:
        """Start the next member; False at the clean end of the data."""
        while True:
            if len(self._pending) < len(_GZIP_MAGIC):
                more = self._source.read(_INPUT_STEP)
                if more:
                    self._pending += more
                    continue
                if self._pending.strip(b"\0"):
                    raise zlib.error("unexpected bytes after the gzip data")
                return False
            if self._pending.startswith(_GZIP_MAGIC):
                self._member = zlib.decompressobj(_GZIP_WBITS)
                return True
            if self._pending.strip(b"\0"):
                raise zlib.error("unexpected bytes after the gzip data")
            self._pending = b""


def zstd_inflater(source: ChunkReader) -> Callable[[int], bytes]:
    """A reader of zstd data across frames (raises zstandard.ZstdError on bad data)."""
    # ChunkReader has the one method the reader calls, `read`
    reader = zstandard.ZstdDecompressor().stream_reader(
        cast("IO[bytes]", source), read_size=_INPUT_STEP, read_across_frames=True, closefd=False
    )
    return reader.read


class InflatedStream:
    """The tar bytes, for tarfile: forward-only reads and seeks, counted against the limits."""

    def __init__(
        self,
        read_inflated: Callable[[int], bytes],
        compressed_bytes: Callable[[], int],
        *,
        digest: str,
        limits: LayerLimits,
    ) -> None:
        self._read_inflated = read_inflated
        self._compressed_bytes = compressed_bytes
        self._digest = digest
        self._limits = limits
        # tarfile reads whole headers and interesting files at once; nothing else is that big
        self._max_read = max(limits.max_interesting_file_bytes, _OUTPUT_STEP)
        self._inflated = 0  # bytes inflated so far, peeked ones included
        self._peeked = b""

    def tell(self) -> int:
        return self._inflated - len(self._peeked)

    def peek(self, size: int) -> bytes:
        """Up to `size` bytes ahead without consuming them; fewer only at the end of the data."""
        while len(self._peeked) < size:
            piece = self._read_inflated(size - len(self._peeked))
            if not piece:
                break
            self._advance(len(piece))
            self._peeked += piece
        return self._peeked[:size]

    def read(self, size: int = -1) -> bytes:
        """Exactly `size` bytes unless the data ends first (tarfile needs whole blocks)."""
        if size < 0 or size > self._max_read:
            raise LayerLimitExceeded(
                f"layer {self._digest}: a tar entry asks to read {format_size(max(size, 0))} at"
                f" once, over the {format_size(self._max_read)} limit (max_interesting_file_bytes)"
            )
        parts = [self._peeked[:size]]
        self._peeked = self._peeked[size:]
        wanted = size - len(parts[0])
        while wanted > 0:
            piece = self._read_inflated(min(wanted, _OUTPUT_STEP))
            if not piece:
                break
            self._advance(len(piece))
            parts.append(piece)
            wanted -= len(piece)
        return b"".join(parts)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Skip forward by inflating and dropping; skipped contents are never kept."""
        target = offset if whence == io.SEEK_SET else self.tell() + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self.tell():
            raise io.UnsupportedOperation("a layer stream only seeks forward")
        self._peeked = self._peeked[target - self.tell() :]
        while self._inflated < target:
            piece = self._read_inflated(min(target - self._inflated, _OUTPUT_STEP))
            if not piece:
                break
            self._advance(len(piece))
        return self.tell()

    def _advance(self, count: int) -> None:
        self._inflated += count
        limits = self._limits
        if self._inflated > limits.max_inflated_bytes:
            raise LayerLimitExceeded(
                f"layer {self._digest} inflates to more than"
                f" {format_size(limits.max_inflated_bytes)} (max_inflated_bytes)"
            )
        compressed = max(self._compressed_bytes(), 1)
        if (
            self._inflated > limits.min_bytes_for_ratio
            and self._inflated > limits.max_compression_ratio * compressed
        ):
            raise LayerLimitExceeded(
                f"layer {self._digest} looks like a decompression bomb:"
                f" {format_size(compressed)} inflated to {format_size(self._inflated)} and more,"
                f" over {limits.max_compression_ratio:g} times (max_compression_ratio)"
            )
