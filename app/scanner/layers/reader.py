"""read_layer: one layer blob streamed through a reading thread, never held whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from functools import partial

from app.scanner.errors import LayerLimitExceeded
from app.scanner.layers.bridge import ChunkPipe
from app.scanner.layers.compression import declared_compression
from app.scanner.layers.findings import LayerFindings
from app.scanner.layers.limits import LayerLimits, format_size
from app.scanner.layers.tar_scan import scan_layer

# chunks queued ahead of the reading thread: memory stays at a few chunks per layer
_IN_FLIGHT_CHUNKS = 4
READER_THREAD_PREFIX = "layer-reader"


async def read_layer(
    chunks: AsyncIterable[bytes],
    *,
    media_type: str,
    digest: str,
    limits: LayerLimits = LayerLimits(),  # noqa: B008 - frozen, shared safely
) -> LayerFindings:
    """Read one layer blob (gzip, zstd or plain tar) and return what it holds of interest.

    Compression is taken from the data's magic bytes; a media type that disagrees is noted.
    `chunks` is consumed to its end even when the tar ends early, so a caller hashing them
    still sees every byte; it is left alone as soon as reading fails.

    Raises:
        LayerFormatError: not a tar stream, or damaged compressed data.
        LayerLimitExceeded: a limit in `limits` was broken.
    """
    pipe = ChunkPipe(_IN_FLIGHT_CHUNKS)
    work = partial(
        scan_layer,
        pipe.receive,
        declared=declared_compression(media_type),
        digest=digest,
        limits=limits,
    )
    outcome = pipe.start_reader(work, name=f"{READER_THREAD_PREFIX} {digest[:19]}")
    try:
        await _feed(chunks, pipe, outcome, digest=digest, limits=limits)
        # shielded: a cancelled caller must still wait below for the thread to stop
        return await asyncio.shield(outcome)
    except BaseException:
        pipe.abort()
        await asyncio.wait([outcome])
        raise


async def _feed(
    chunks: AsyncIterable[bytes],
    pipe: ChunkPipe,
    outcome: asyncio.Future[LayerFindings],
    *,
    digest: str,
    limits: LayerLimits,
) -> None:
    """Send every chunk; stop early only when the reader failed."""
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limits.max_compressed_bytes:
            raise LayerLimitExceeded(
                f"layer {digest} is bigger than {format_size(limits.max_compressed_bytes)}"
                " (max_compressed_bytes)"
            )
        if chunk and not await pipe.send(chunk) and outcome.exception() is not None:
            return
    pipe.close()
