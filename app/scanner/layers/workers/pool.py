"""A bounded pool of layer worker processes, started on demand and replaced when one dies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator

from app.scanner.errors import LayerAnalysisFailed
from app.scanner.layers.analysis import LayerAnalyser
from app.scanner.layers.findings import Compression, LayerFindings
from app.scanner.layers.limits import LayerLimits
from app.scanner.layers.workers.process import WorkerProcess
from app.scanner.layers.workers.slots import PrioritySlots


class WorkerPool:
    """At most `size` worker processes, each analysing one layer at a time.

    A worker starts when a layer needs one and none is idle; it stays for the next layers. One
    that died, was killed or did not stop a cancelled layer in time is discarded (and reaped),
    and the next layer gets a new one.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a worker pool needs at least one worker, not {size}")
        self.size = size
        self._slots = PrioritySlots(size)
        self._idle: list[WorkerProcess] = []
        self._workers: set[WorkerProcess] = set()  # started and not yet reaped
        self._reaping: set[asyncio.Task[None]] = set()
        self._closed = False
        self._started = 0
        self._lost = 0  # died, were killed or stopped answering before shutdown

    @property
    def pids(self) -> list[int]:
        """The worker processes alive or not yet reaped."""
        return sorted(worker.pid for worker in self._workers)

    def counters(self) -> dict[str, int]:
        return {"layer_workers_started": self._started, "layer_workers_lost": self._lost}

    @contextlib.asynccontextmanager
    async def reserve(self, priority: float = 0.0) -> AsyncIterator[LayerAnalyser]:
        """A worker of its own for one layer; waits while every worker is busy, behind the
        waiters with a lower `priority` number (the layers of scans that started earlier)."""
        await self._slots.acquire(priority)
        try:
            worker = await self._take()
            try:
                yield worker
            finally:
                self._give_back(worker)
        finally:
            self._slots.release()

    async def analyse(
        self,
        chunks: AsyncIterable[bytes],
        *,
        declared: Compression | None,
        digest: str,
        limits: LayerLimits,
    ) -> LayerFindings:
        async with self.reserve() as worker:
            return await worker.analyse(chunks, declared=declared, digest=digest, limits=limits)

    async def close(self) -> None:
        """Stop every worker by PID (SIGTERM, then SIGKILL) and reap it."""
        self._closed = True
        self._idle.clear()
        workers = list(self._workers)
        await asyncio.gather(*(worker.stop() for worker in workers), *self._reaping)
        self._workers.difference_update(workers)

    async def _take(self) -> WorkerProcess:
        if self._closed:
            raise LayerAnalysisFailed("layer analysis has shut down")
        while self._idle:
            worker = self._idle.pop()
            if worker.ready:
                return worker
            self._discard(worker)
        # shielded: a worker started for a caller that went away joins the idle ones
        starting = asyncio.ensure_future(WorkerProcess.start(self._ended))
        try:
            worker = await asyncio.shield(starting)
        except asyncio.CancelledError:
            starting.add_done_callback(self._adopt)
            raise
        self._started += 1
        self._workers.add(worker)
        return worker

    def _adopt(self, starting: asyncio.Future[WorkerProcess]) -> None:
        if starting.cancelled() or starting.exception() is not None:
            return
        worker = starting.result()
        self._started += 1
        self._workers.add(worker)
        self._give_back(worker)

    def _ended(self, worker: WorkerProcess) -> None:
        """A worker's output ended: if it was idle, reap it now (a busy one is handled when
        its layer is given back)."""
        if worker in self._idle:
            self._idle.remove(worker)
            self._discard(worker)

    def _give_back(self, worker: WorkerProcess) -> None:
        if worker.ready and not self._closed:
            self._idle.append(worker)
        else:
            self._discard(worker)

    def _discard(self, worker: WorkerProcess) -> None:
        if not self._closed:
            self._lost += 1
        reaping = asyncio.create_task(worker.stop())
        self._reaping.add(reaping)

        def reaped(task: asyncio.Task[None]) -> None:
            self._reaping.discard(task)
            self._workers.discard(worker)

        reaping.add_done_callback(reaped)
