"""The periodic feed sync across replicas: one leads, a sync runs once per interval whichever
replica runs it, the next one asks conditionally; the status every replica reports follows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.osv_archives import OsvArchives
from app.services.feed_schedule import ScheduledFeedSync
from app.services.feed_status import FeedStatus
from app.services.feed_sync import FeedSync
from storage.feed_syncs import FeedSyncRepository
from storage.leases import LeaseRepository
from storage.vulnerabilities import VulnerabilityRepository
from tests.support.osv_feed import FeedServer, osv_record, zip_of

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def feed(aiohttp_server: Any) -> AsyncIterator[tuple[FeedServer, OsvArchives]]:
    served = FeedServer()
    served.publish("Debian", zip_of([osv_record("DSA-1", "Debian:12", "openssl", "3.0.13-1")]))
    served.publish("PyPI", zip_of([osv_record("GHSA-3", "PyPI", "requests", "2.32.0")]))
    server = await aiohttp_server(served.app(), host="127.0.0.1")
    url = str(server.make_url("")).rstrip("/")
    async with OsvArchives(url, max_bytes=1 << 20, timeout_s=30) as source:
        yield served, source


async def test_one_replica_syncs_once_per_interval(
    db: Any, feed: tuple[FeedServer, OsvArchives]
) -> None:
    served, source = feed
    clock = Clock()
    rematches: list[datetime] = []

    async def rematch() -> int:
        rematches.append(clock())
        return 0

    def replica(owner: str) -> ScheduledFeedSync:
        sync = FeedSync(
            db=db, source=source, ecosystems=("Debian", "PyPI"), max_time_ms=5000, clock=clock
        )
        return ScheduledFeedSync(
            sync=sync,
            syncs=FeedSyncRepository(db, max_time_ms=5000),
            leases=LeaseRepository(db),
            rematch=rematch,
            owner=owner,
            interval=HOUR,
            lease_ttl=timedelta(seconds=60),
            clock=clock,
        )

    a, b = replica("a"), replica("b")
    first = await a.run_round()
    assert first is not None
    assert [(r.ecosystem, r.outcome) for r in first.results] == [("Debian", "ok"), ("PyPI", "ok")]
    assert rematches == [T0]  # the feed changed
    assert await b.run_round() is None  # a leads
    clock.now = T0 + 10 * timedelta(minutes=1)
    assert await a.run_round() is None  # not due yet
    assert [(asked.ecosystem, asked.status) for asked in served.asked] == [
        ("Debian", 200),
        ("PyPI", 200),
    ]

    # a is gone (its lease ran out); an interval after the last sync, b leads and syncs
    clock.now = T0 + 2 * HOUR
    second = await b.run_round()
    assert second is not None
    assert [r.outcome for r in second.results] == ["not-modified", "not-modified"]
    assert [(asked.if_none_match, asked.status) for asked in served.asked[2:]] == [
        (served.etag("Debian"), 304),
        (served.etag("PyPI"), 304),
    ]
    assert rematches == [T0]  # nothing changed: nothing re-matched

    status = FeedStatus(
        feeds=VulnerabilityRepository(db, max_time_ms=5000),
        syncs=FeedSyncRepository(db, max_time_ms=5000),
        max_age_s=HOUR.total_seconds(),
        clock=clock,
    )
    await status.refresh()
    assert status.age_s() == 2 * HOUR.total_seconds()  # not-modified does not renew the import
    assert status.snapshot is not None
    assert {e: s.outcome for e, s in status.snapshot.syncs.items()} == {
        "Debian": "not-modified",
        "PyPI": "not-modified",
    }
    assert status.warnings() == ["the vulnerability feed was imported 2h ago, over 1h"]


async def test_a_replica_shutting_down_hands_leadership_over_at_once(
    db: Any, feed: tuple[FeedServer, OsvArchives]
) -> None:
    _, source = feed
    clock = Clock()
    leases = LeaseRepository(db)

    async def rematch() -> int:
        return 0

    def replica(owner: str) -> ScheduledFeedSync:
        sync = FeedSync(db=db, source=source, ecosystems=("Debian",), max_time_ms=5000)
        syncs = FeedSyncRepository(db, max_time_ms=5000)
        ttl = timedelta(seconds=60)
        return ScheduledFeedSync(
            sync=sync,
            syncs=syncs,
            leases=leases,
            rematch=rematch,
            owner=owner,
            interval=HOUR,
            lease_ttl=ttl,
            clock=clock,
        )

    a, b = replica("a"), replica("b")
    assert await a.run_round() is not None
    await a.release()
    assert await b.run_round() is None  # leads now, but the sync is not due
    assert not await leases.acquire("vulndb-sync", "a", ttl=timedelta(seconds=60), now=clock())
