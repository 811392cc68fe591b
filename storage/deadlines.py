"""Deadlines for store calls without a timer per call.

`asyncio.timeout` creates, schedules and cancels a timer handle on every call: on a point read
from memory that is about as much Python as the rest of the request's store work. Here each
call only registers itself with its loop's watch (a set insert and a removal); the watch keeps
one timer, at the earliest deadline it knows of, and cancels the tasks whose deadline passed.
Semantics are those of `asyncio.timeout` on Python 3.11: the expired task is cancelled, and the
scope turns that cancellation (and only that one) into TimeoutError.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class _Watch:
    """The deadlines registered on one event loop, and the one timer that enforces them."""

    __slots__ = ("_loop", "_scopes", "_timer", "_timer_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._scopes: dict[Deadline, float] = {}  # each with its deadline
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def add(self, scope: Deadline, at: float) -> None:
        self._scopes[scope] = at
        # Deadlines of one length arrive in order: the timer rarely needs to move earlier.
        if self._timer is None or at < self._timer_at:
            self._schedule(at)

    def discard(self, scope: Deadline) -> None:
        self._scopes.pop(scope, None)

    def _schedule(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(at, self._expire_due)
        self._timer_at = at

    def _expire_due(self) -> None:
        self._timer = None
        now = self._loop.time()
        due = [scope for scope, at in self._scopes.items() if at <= now]
        for scope in due:
            del self._scopes[scope]
            scope.expire()
        if self._scopes:
            self._schedule(min(self._scopes.values()))


_watch: _Watch | None = None  # of the loop that registered last: almost always the only one


def _watch_of(loop: asyncio.AbstractEventLoop) -> _Watch:
    global _watch
    watch = _watch
    if watch is None or watch._loop is not loop:
        watch = _watch = _Watch(loop)
    return watch


class Deadline:
    """`with Deadline(at):` cancels the body at the loop time `at` (None: never) and raises
    TimeoutError from it; `expired()` tells whether it did. Used inside a task only."""

    __slots__ = ("at", "_task", "_cancelling", "_expired", "_watch")

    def __init__(self, at: float | None) -> None:
        self.at = at
        self._expired = False
        self._watch: _Watch | None = None

    def expired(self) -> bool:
        return self._expired

    def __enter__(self) -> Deadline:
        if self.at is not None:
            task = asyncio.current_task()
            if task is None:
                raise RuntimeError("a deadline is only enforced inside a task")
            self._task = task
            self._cancelling = task.cancelling()
            self._watch = _watch_of(task.get_loop())
            self._watch.add(self, self.at)
        return self

    def expire(self) -> None:
        self._expired = True
        self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._watch is None:
            return
        if not self._expired:
            self._watch.discard(self)
            return
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc
