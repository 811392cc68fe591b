"""read_layer: one layer blob streamed to an analyser (a thread or a worker process), never held
whole."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from app.scanner.errors import LayerLimitExceeded
from app.scanner.layers.analysis import IN_THREAD, READER_THREAD_PREFIX, LayerAnalyser
from app.scanner.layers.compression import declared_compression
from app.scanner.layers.findings import LayerFindings
from app.scanner.layers.limits import LayerLimits, format_size

__all__ = ["READER_THREAD_PREFIX", "read_layer"]


async def read_layer(
    chunks: AsyncIterable[bytes],
    *,
    media_type: str,
    digest: str,
    limits: LayerLimits = LayerLimits(),  # noqa: B008 - frozen, shared safely
    analyser: LayerAnalyser = IN_THREAD,
) -> LayerFindings:
    """Read one layer blob (gzip, zstd or plain tar) and return what it holds of interest.

    Compression is taken from the data's magic bytes; a media type that disagrees is noted.
    `chunks` is consumed to its end even when the tar ends early, so a caller hashing them
    still sees every byte; it is left alone as soon as reading fails. `analyser` is where the
    bytes are read: a thread of this process unless a worker pool (or one of its reserved
    workers) is given.

    Raises:
        LayerFormatError: not a tar stream, or damaged compressed data.
        LayerLimitExceeded: a limit in `limits` was broken.
        LayerAnalysisFailed: the worker process reading the layer died.
    """
    return await analyser.analyse(
        _counted(chunks, digest=digest, limits=limits),
        declared=declared_compression(media_type),
        digest=digest,
        limits=limits,
    )


async def _counted(
    chunks: AsyncIterable[bytes], *, digest: str, limits: LayerLimits
) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limits.max_compressed_bytes:
            raise LayerLimitExceeded(
                f"layer {digest} is bigger than {format_size(limits.max_compressed_bytes)}"
                " (max_compressed_bytes)"
            )
        yield chunk
