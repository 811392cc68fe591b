"""The rescan lease: one owner until it expires, renewable by its owner, free once released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage.leases import LeaseRepository

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TTL = timedelta(seconds=30)


async def test_one_owner_at_a_time_until_expiry(db: Any) -> None:
    leases = LeaseRepository(db)
    assert await leases.acquire("job", "a", ttl=TTL, now=T0)
    assert not await leases.acquire("job", "b", ttl=TTL, now=T0 + timedelta(seconds=10))
    # the owner renews, which pushes the expiry on
    assert await leases.acquire("job", "a", ttl=TTL, now=T0 + timedelta(seconds=20))
    assert not await leases.acquire("job", "b", ttl=TTL, now=T0 + timedelta(seconds=40))
    # not renewed: taken over once expired
    assert await leases.acquire("job", "b", ttl=TTL, now=T0 + timedelta(seconds=51))
    assert not await leases.acquire("job", "a", ttl=TTL, now=T0 + timedelta(seconds=52))


async def test_release_frees_the_lease_only_for_its_owner(db: Any) -> None:
    leases = LeaseRepository(db)
    assert await leases.acquire("job", "a", ttl=TTL, now=T0)
    await leases.release("job", "b")  # not the owner: nothing happens
    assert not await leases.acquire("job", "b", ttl=TTL, now=T0)
    await leases.release("job", "a")
    assert await leases.acquire("job", "b", ttl=TTL, now=T0)
    assert await leases.acquire("other", "a", ttl=TTL, now=T0)  # jobs are independent


async def test_a_replica_that_does_not_lead_logs_no_error(db: Any, caplog: Any) -> None:
    # every poll of a follower meets the live lease; that is an answer, not a failure
    leases = LeaseRepository(db)
    assert await leases.acquire("job", "a", ttl=TTL, now=T0)
    caplog.clear()
    assert not await leases.acquire("job", "b", ttl=TTL, now=T0)
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
