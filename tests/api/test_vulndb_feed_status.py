"""The feed as the service keeps it current: the periodic sync in one replica of two, /metrics
with the feed's age and each ecosystem's last sync, /readyz warning (still ready) when old."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.config import Settings
from app.keys import IMAGES
from app.services.feed_import import import_feed
from schemas.image import normalize_image
from tests.support.osv_feed import FeedServer, osv_record, zip_of

DIGEST = "sha256:" + "e" * 64


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110  (the loop runs in the background)
            await asyncio.sleep(0.05)


async def metrics(client: Any) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    return str(await response.text())


def sample(text: str, name: str, **labels: str) -> float | None:
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{re.escape(selector)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.M)
    return None if found is None else float(found.group(1))


def scanned_image() -> dict[str, Any]:
    component = {"name": "requests", "version": "2.25.0", "source": "PYTHON", "vulns": []}
    image = normalize_image(
        {"id": DIGEST, "scan": {"scanTime": "2024-01-01T00:00:00Z", "components": [component]}}
    )
    package = {"kind": "python", "ecosystems": ["PyPI"], "name": "requests", "version": "2.25.0"}
    image["_scanner"] = {"feed": "", "packages": [package]}
    return image


async def test_the_periodic_sync_runs_in_one_replica_and_every_replica_reports_it(
    aiohttp_server: Any, app_client: Any, settings: Settings, db: Any
) -> None:
    served = FeedServer()
    served.publish("Debian", zip_of([osv_record("DSA-1", "Debian:12", "openssl", "3.0.13-1")]))
    served.publish("PyPI", zip_of([osv_record("GHSA-3", "PyPI", "requests", "2.32.0")]))
    server = await aiohttp_server(served.app(), host="127.0.0.1")
    synced = settings.with_overrides(
        vulndb_url=str(server.make_url("")).rstrip("/"),
        vulndb_ecosystems=("Debian", "PyPI"),
        # short, so that a replica that lost the race to the sync reads its outcome soon
        # (the status is read again every quarter interval, at most every 30 s)
        vulndb_sync_interval_s=2.0,
    )
    first = await app_client(synced, db)
    await first.server.app[IMAGES].upsert([scanned_image()])
    second = await app_client(synced, db)

    async def reported(client: Any) -> bool:
        text = await metrics(client)
        return all(
            sample(text, "image_service_vulndb_sync_outcome", ecosystem=e, outcome="ok") == 1.0
            for e in ("Debian", "PyPI")
        )

    await eventually(lambda: reported(first))
    await eventually(lambda: reported(second))
    # one download between the two replicas; any later round only asked whether it changed
    asked = [(asked.ecosystem, asked.status) for asked in served.asked]
    assert asked[:2] == [("Debian", 200), ("PyPI", 200)]
    assert {status for _, status in asked[2:]} <= {304}
    text = await metrics(second)
    assert (
        sample(text, "image_service_vulndb_sync_outcome", ecosystem="PyPI", outcome="failed") == 0
    )
    age = sample(text, "image_service_vulndb_feed_age_seconds")
    assert age is not None
    assert 0 <= age < 600
    stamp = sample(text, "image_service_vulndb_sync_timestamp_seconds", ecosystem="Debian")
    assert stamp is not None
    assert abs(stamp - datetime.now(UTC).timestamp()) < 600
    # the stored image was matched against the new feed
    image = await first.server.app[IMAGES].get(DIGEST)
    [vuln] = image["scan"]["components"][0]["vulns"]
    assert vuln["fixedBy"] == "2.32.0"


async def test_readyz_warns_about_an_old_feed_and_stays_ready(
    app_client: Any, settings: Settings, db: Any, tmp_path: Path
) -> None:
    archive = tmp_path / "all.zip"
    archive.write_bytes(zip_of([osv_record("GHSA-3", "PyPI", "requests", "2.32.0")]))
    limited = settings.with_overrides(vulndb_max_age_s=3600.0)

    # no feed at all
    client = await app_client(limited, db)

    async def warned(expected: str) -> bool:
        response = await client.get("/readyz")
        assert response.status == 200
        body = await response.json()
        return any(expected in warning for warning in body.get("warnings", []))

    await eventually(lambda: warned("no vulnerability feed has been imported (maximum age 1h)"))

    # a feed imported three hours ago
    three_hours_ago = datetime.now(UTC) - timedelta(hours=3)
    await import_feed(db, archive, progress=False, clock=lambda: three_hours_ago)
    client = await app_client(limited, db)
    await eventually(lambda: warned("the vulnerability feed was imported 3h ago, over 1h"))
    assert sample(await metrics(client), "image_service_vulndb_feed_age_seconds") >= 3 * 3600

    # imported again just now: ready without a word (once the replica has read it)
    await import_feed(db, archive, progress=False)
    client = await app_client(limited, db)

    async def fresh() -> bool:
        age = sample(await metrics(client), "image_service_vulndb_feed_age_seconds")
        return age is not None and age < 600

    await eventually(fresh)
    response = await client.get("/readyz")
    assert await response.json() == {"status": "ok"}
