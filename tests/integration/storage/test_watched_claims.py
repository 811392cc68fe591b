"""Watched names are claimed for a rescan by one caller per interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage.watched import WatchedImageRepository

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_a_due_name_is_claimed_once(db: Any) -> None:
    repo = WatchedImageRepository(db, max_time_ms=5000)
    await repo.add("docker.io/library/a:1", digest="sha256:1", checked=T0, next_check=T0 + HOUR)
    await repo.add("docker.io/library/b:1")  # never checked: due at once
    due = await repo.due(T0, limit=10)
    assert [w.name for w in due] == ["docker.io/library/b:1"]
    assert await repo.claim("docker.io/library/b:1", now=T0, until=T0 + HOUR)
    assert not await repo.claim("docker.io/library/b:1", now=T0, until=T0 + HOUR)
    assert await repo.due(T0, limit=10) == []

    later = T0 + 2 * HOUR
    assert {w.name for w in await repo.due(later, limit=10)} == {
        "docker.io/library/a:1",
        "docker.io/library/b:1",
    }
    assert await repo.claim("docker.io/library/a:1", now=later, until=later + HOUR)
    await repo.record_check("docker.io/library/a:1", checked=later, digest="sha256:2", error="")
    entry = await repo.get("docker.io/library/a:1")
    assert entry is not None
    assert entry.digest == "sha256:2"


async def test_recording_a_check_does_not_bring_an_unwatched_name_back(db: Any) -> None:
    repo = WatchedImageRepository(db, max_time_ms=5000)
    await repo.add("docker.io/library/a:1")
    await repo.remove("docker.io/library/a:1")
    await repo.record_check("docker.io/library/a:1", checked=T0, digest="sha256:1", error="x")
    assert await repo.list() == []
