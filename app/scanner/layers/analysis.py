"""Where a layer's bytes are analysed: a thread of this process, or a worker process of a pool.

Both take the blob's chunks from the event loop with a few chunks in flight (the reader waits
for room), run `scan_layer` on them and hand back its LayerFindings or its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Protocol

from app.scanner.layers.bridge import ChunkPipe
from app.scanner.layers.findings import Compression, LayerFindings
from app.scanner.layers.limits import LayerLimits
from app.scanner.layers.tar_scan import scan_layer

# chunks queued ahead of the reader: memory stays at a few chunks per layer
IN_FLIGHT_CHUNKS = 4
READER_THREAD_PREFIX = "layer-reader"


class LayerAnalyser(Protocol):
    async def analyse(
        self,
        chunks: AsyncIterable[bytes],
        *,
        declared: Compression | None,
        digest: str,
        limits: LayerLimits,
    ) -> LayerFindings:
        """scan_layer over `chunks`, consumed to their end unless the analysis failed.

        Raises what scan_layer raises, what iterating `chunks` raises, and
        LayerAnalysisFailed when the analysing process died.
        """
        ...


class LayerAnalysis(LayerAnalyser, Protocol):
    """A bounded place to analyse layers; `reserve` waits for room for one layer."""

    def reserve(self, priority: float = 0.0) -> AbstractAsyncContextManager[LayerAnalyser]:
        """Room for one layer; a lower `priority` number is served first."""
        ...

    async def close(self) -> None:
        """Stop what it started (worker processes); no layer may be analysed afterwards."""
        ...

    def counters(self) -> dict[str, int]:
        """Totals for /metrics (worker processes started and lost), by name."""
        ...


class InThread:
    """Each layer in a thread of its own in this process (IMAGE_SERVICE_SCAN_WORKERS=0).

    Inflating releases the GIL, the tar walk and the parsers do not: layers read this way share
    one core. Kept for debugging (a debugger and a profiler see everything in one process).
    """

    @asynccontextmanager
    async def reserve(self, priority: float = 0.0) -> AsyncIterator[LayerAnalyser]:
        yield self

    async def close(self) -> None:
        return None

    def counters(self) -> dict[str, int]:
        return {"layer_workers_started": 0, "layer_workers_lost": 0}

    async def analyse(
        self,
        chunks: AsyncIterable[bytes],
        *,
        declared: Compression | None,
        digest: str,
        limits: LayerLimits,
    ) -> LayerFindings:
        pipe = ChunkPipe(IN_FLIGHT_CHUNKS)
        work = partial(scan_layer, pipe.receive, declared=declared, digest=digest, limits=limits)
        outcome = pipe.start_reader(work, name=f"{READER_THREAD_PREFIX} {digest[:19]}")
        try:
            await _feed(chunks, pipe, outcome)
            # shielded: a cancelled caller must still wait below for the thread to stop
            return await asyncio.shield(outcome)
        except BaseException:
            pipe.abort()
            await asyncio.wait([outcome])
            raise


async def _feed(
    chunks: AsyncIterable[bytes], pipe: ChunkPipe, outcome: asyncio.Future[LayerFindings]
) -> None:
    """Send every chunk; stop early only when the reader failed."""
    async for chunk in chunks:
        if chunk and not await pipe.send(chunk) and outcome.exception() is not None:
            return
    pipe.close()


IN_THREAD = InThread()
