"""Hands a layer's chunks from the event loop to the thread that reads it, and back the result."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_END = object()
_ABORT = object()


class PipeAborted(Exception):
    """The sending side gave up; raised in the reading thread at its next receive."""


class ChunkPipe:
    """At most `capacity` chunks in flight from the event loop to one reading thread.

    The loop side calls send/close/abort; the thread calls receive. Create it in the loop.
    """

    def __init__(self, capacity: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._credits = asyncio.Semaphore(capacity)
        self._reader_done = False

    async def send(self, chunk: bytes) -> bool:
        """Queue a chunk once there is room; False when the reader has stopped reading."""
        if self._reader_done:
            return False
        await self._credits.acquire()
        if self._reader_done:
            return False
        self._queue.put(chunk)
        return True

    def close(self) -> None:
        """No more chunks: the reader's next receive returns b""."""
        self._queue.put(_END)

    def abort(self) -> None:
        """Stop the reader: its next receive raises PipeAborted."""
        self._queue.put(_ABORT)

    def receive(self) -> bytes:
        """The next chunk, b"" after close (called from the reading thread)."""
        item = self._queue.get()
        if item is _ABORT or item is _END:
            self._queue.put(item)  # every later receive sees it too
            if item is _ABORT:
                raise PipeAborted
            return b""
        self._loop.call_soon_threadsafe(self._credits.release)
        assert isinstance(item, bytes)
        return item

    def start_reader(self, work: Callable[[], T], *, name: str) -> asyncio.Future[T]:
        """Run `work` in a thread of its own; the future settles when it returns or raises.

        A dedicated thread rather than the default executor: a reader blocks until chunks come,
        and the chunks may themselves need the executor (files read with to_thread).
        """
        loop = self._loop
        outcome: asyncio.Future[T] = loop.create_future()
        # the error of an abandoned read is nobody's news: mark it retrieved
        outcome.add_done_callback(lambda done: done.cancelled() or done.exception())

        def settle(result: T | None, error: BaseException | None) -> None:
            if not outcome.done():
                if error is not None:
                    outcome.set_exception(error)
                else:
                    outcome.set_result(result)  # type: ignore[arg-type]
            self._reader_done = True
            self._credits.release()  # wake a sender waiting for room

        def run() -> None:
            result: T | None = None
            error: BaseException | None = None
            try:
                result = work()
            except BaseException as exc:  # handed to the loop, raised there
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
                loop.call_soon_threadsafe(settle, result, error)

        threading.Thread(target=run, name=name, daemon=True).start()
        return outcome
