"""The rescan leader trusts the registry's digest over its own metadata cache.

The watched entry may carry a digest another replica wrote after the tag moved, while this
replica still caches the old manifest: the digest the registry reports must win.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from app.keys import RESCANS
from storage.mongo import WATCHED_IMAGES
from tests.scanner.scan_support import scan_settings, unique_repo
from tests.support.oci.samples import push_alpine, push_debian
from tests.support.registry import RunningRegistry


async def test_leader_with_a_stale_cache_keeps_the_digest_the_registry_reports(
    nx_db: Any, app_client: Any, registry: RunningRegistry
) -> None:
    settings = scan_settings(registry.host)  # no background loop: rounds are run by hand
    leader = await app_client(settings, nx_db)
    other = await app_client(settings, nx_db)
    repo = unique_repo("stale/cache")
    old = push_alpine(registry, repo, "stable")
    name = old.reference(registry)

    # the leader replica scans the name once: its metadata cache now says `old`
    assert (await leader.post("/v1/images/scan", json={"imageName": name})).status == 200
    new = push_debian(registry, repo, "stable")
    # another replica watches the name after the move: the entry records `new`
    body = await (await other.post("/v1/watchedimages", json={"name": name})).json()
    assert body["errorType"] == "NO_ERROR"
    # the name falls due
    past = datetime.now(UTC) - timedelta(seconds=1)
    await nx_db[WATCHED_IMAGES].update_one({"_id": name}, {"$set": {"schedule": {"next": past}}})

    report = await leader.app[RESCANS].run_round()
    assert report.led
    assert report.checked == 1
    [entry] = (await (await leader.get("/v1/watchedimages")).json())["watchedImages"]
    assert entry["digest"] == new.digest, "the leader wrote the cached (old) digest back"


async def test_a_busy_scanner_postpones_a_name_briefly_without_an_error(
    nx_db: Any, app_client: Any, registry: RunningRegistry
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    stalled = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    settings = scan_settings(registry.host, stalled, max_retries=0, request_timeout_s=3)
    settings = settings.with_overrides(max_concurrent_scans=1, scan_queue_wait_s=0.1)
    client = await app_client(settings, nx_db)
    pushed = push_alpine(registry, unique_repo("busy/app"), "1")
    name = pushed.reference(registry)
    past = datetime.now(UTC) - timedelta(seconds=1)
    await nx_db[WATCHED_IMAGES].insert_one({"_id": name, "schedule": {"next": past}})
    try:
        # a user's scan holds the only slot while its registry stays silent
        hog = asyncio.create_task(
            client.post("/v1/images/scan", json={"imageName": f"{stalled}/x:1"})
        )
        await asyncio.sleep(0.3)
        report = await client.app[RESCANS].run_round()
        assert report.checked == 1
        assert report.failed == 0
        entry = await nx_db[WATCHED_IMAGES].find_one({"_id": name})
        assert "check" not in entry  # no error recorded: the name did not fail
        # due again within seconds, not an interval (4 h) later
        assert entry["schedule"]["next"] < datetime.now() + timedelta(minutes=1)
        assert (await hog).status == 504
    finally:
        server.close()
        await server.wait_closed()
