"""/readyz answers at once from the state kept in the background: not ready until the indexes
exist, not ready soon after the store goes away, and the body says why."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

import app.resources
from app.cli.local_store import LocalStore, start_local_store
from app.config import Settings
from app.main import create_app
from storage.mongo import open_client
from tests.api.test_images import assert_error
from tests.support.stores import MONGOMOCK

# the probe must answer within this, whatever the store does (the kubelet gives it 3 s)
PROBE_BOUND_S = 1.0


@pytest.fixture
def own_store(tmp_path: Path) -> Iterator[list[LocalStore]]:
    """A store of this test's own, which the test may stop and start again (stopped by PID)."""
    stores = [start_local_store(tmp_path / "nx")]
    yield stores
    for store in stores:
        store.stop()


async def timed_readyz(client: Any) -> tuple[int, dict[str, Any], float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.get("/readyz")
    body = await response.json()
    return response.status, body, loop.time() - started


async def until_readyz(client: Any, status: int, *, within_s: float) -> dict[str, Any]:
    """Polls /readyz until it answers `status`; every answer must come within PROBE_BOUND_S."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within_s
    while True:
        answered, body, took = await timed_readyz(client)
        assert took < PROBE_BOUND_S, f"/readyz took {took:.2f}s"
        if answered == status:
            return body
        assert loop.time() < give_up, f"/readyz not {status} within {within_s}s: {body}"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("store", ["own nx-27017"])
async def test_readyz_answers_within_a_second_and_says_why_when_the_store_is_gone(
    aiohttp_client: Any,
    settings: Settings,
    own_store: list[LocalStore],
    store: str,
    tmp_path: Path,
) -> None:
    running = own_store[0]
    mongo = open_client(running.uri, timeout_ms=5000)  # as the service opens it
    try:
        client = await aiohttp_client(create_app(settings, db=mongo["ready"]))
        assert await until_readyz(client, 200, within_s=0) == {"status": "ok"}

        running.stop()
        body = await until_readyz(client, 503, within_s=15)
        assert_error(body, 14, "not ready: the database is unavailable (a ping")
        for _ in range(3):  # and it stays fast while the store stays away
            await until_readyz(client, 503, within_s=0)
            await asyncio.sleep(0.3)
        assert (await client.get("/livez")).status == 200

        # the store back on its port: ready again
        own_store.append(start_local_store(tmp_path / "nx", port=running.port))
        assert await until_readyz(client, 200, within_s=15) == {"status": "ok"}
    finally:
        await mongo.close()


@pytest.mark.parametrize("store", [MONGOMOCK])
async def test_not_ready_until_the_indexes_exist(
    aiohttp_client: Any, settings: Settings, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = asyncio.Event()
    ensure_indexes = app.resources.ensure_indexes

    async def ensure_when_allowed(database: Any) -> list[str]:
        if not allowed.is_set():
            raise AutoReconnect("not yet")
        return await ensure_indexes(database)

    monkeypatch.setattr(app.resources, "ensure_indexes", ensure_when_allowed)
    monkeypatch.setattr(app.resources, "INDEX_RETRY_S", 0.05)
    client = await aiohttp_client(create_app(settings, db=db))
    for _ in range(3):  # the store answers pings all along
        status, body, _ = await timed_readyz(client)
        assert status == 503
        assert_error(body, 14, "not ready: the indexes are not created yet")
        await asyncio.sleep(0.1)

    allowed.set()
    for _ in range(100):
        status, body, _ = await timed_readyz(client)
        if status == 200:
            break
        await asyncio.sleep(0.05)
    assert (status, body) == (200, {"status": "ok"})
    assert await db["images"].index_information()
