"""The store ping that readiness relies on asks the server, not the images database."""

from __future__ import annotations

from pymongo import AsyncMongoClient, monitoring

from app.cli.local_store import LocalStore
from storage.images import ImageRepository


class _Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen.append((event.command_name, event.database_name))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_the_ping_runs_on_the_admin_database(nx_store: LocalStore) -> None:
    # A ping on the images database would wait behind every long read of it on nx-27017
    # (one lock per database); enough of them exhaust its threads and the driver drops
    # every connection, the long read's too.
    commands = _Commands()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        nx_store.uri, event_listeners=[commands]
    )
    try:
        await ImageRepository(client["t_ping"], max_time_ms=5000).ping()
    finally:
        await client.close()
    assert ("ping", "admin") in commands.seen
    assert not [seen for seen in commands.seen if seen[1] == "t_ping"]
