"""The feed in /metrics: its age, and each ecosystem's last sync (outcome and time)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from app.services.feed_status import FeedStatus
from storage.feed_syncs import OUTCOMES


class FeedStatusCollector:
    def __init__(self, status: FeedStatus) -> None:
        self._status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        age = GaugeMetricFamily(
            "image_service_vulndb_feed_age_seconds",
            "Seconds since the vulnerability feed in force was imported (absent before any)",
        )
        seconds = self._status.age_s()
        if seconds is not None:
            age.add_metric([], seconds)
        yield age
        outcome = GaugeMetricFamily(
            "image_service_vulndb_sync_outcome",
            "Each ecosystem's last feed sync: 1 for its outcome (ok, not-modified, failed)",
            labels=["ecosystem", "outcome"],
        )
        when = GaugeMetricFamily(
            "image_service_vulndb_sync_timestamp_seconds",
            "When each ecosystem's feed was last synced (Unix time)",
            labels=["ecosystem"],
        )
        snapshot = self._status.snapshot
        for ecosystem, sync in sorted((snapshot.syncs if snapshot else {}).items()):
            for name in OUTCOMES:
                outcome.add_metric([ecosystem, name], 1.0 if sync.outcome == name else 0.0)
            when.add_metric([ecosystem], sync.attempted_at.timestamp())
        yield outcome
        yield when

    def describe(self) -> list[GaugeMetricFamily]:
        return []
