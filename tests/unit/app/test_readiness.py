"""Readiness as the background checks leave it: start-up work, and a recent answer of the store."""

from __future__ import annotations

import asyncio

from app.readiness import STORE_GRACE_S, Readiness, check_store
from storage.errors import StoreUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _answers() -> None:
    return None


async def _hangs() -> None:
    await asyncio.Event().wait()


async def _refuses() -> None:
    raise StoreUnavailable("no server")


async def test_not_ready_before_the_store_was_ever_checked() -> None:
    assert Readiness().problem() == "the database is unavailable (not checked yet)"


async def test_ready_while_the_store_answered_within_the_grace() -> None:
    clock = Clock()
    readiness = Readiness(clock)
    await check_store(readiness, _answers, timeout_s=1)
    assert readiness.problem() is None
    clock.now += STORE_GRACE_S
    await check_store(readiness, _hangs, timeout_s=0.01)
    assert readiness.problem() is None  # one missed ping is not an outage
    clock.now += 0.01
    assert readiness.problem() == (
        "the database is unavailable (a ping got no answer within 0.01s)"
    )


async def test_a_refusing_store_is_named_in_the_problem() -> None:
    clock = Clock()
    readiness = Readiness(clock)
    await check_store(readiness, _refuses, timeout_s=1)
    assert readiness.problem() == "the database is unavailable (a ping failed: no server)"


async def test_start_up_work_keeps_the_replica_unready_until_it_ends() -> None:
    readiness = Readiness(Clock())
    readiness.begin("indexes", "the indexes are not created yet")
    await check_store(readiness, _answers, timeout_s=1)
    assert readiness.problem() == "the indexes are not created yet"
    readiness.end("indexes")
    assert readiness.problem() is None


async def test_requests_answered_keep_a_busy_replica_ready_while_pings_wait() -> None:
    clock = Clock()
    readiness = Readiness(clock)
    last_request = clock.now
    readiness.count_answers_of(lambda: last_request)
    await check_store(readiness, _hangs, timeout_s=0.01)
    assert readiness.problem() is None
    clock.now += STORE_GRACE_S + 1
    assert readiness.problem() == (
        "the database is unavailable (a ping got no answer within 0.01s)"
    )
    last_request = clock.now
    assert readiness.problem() is None
