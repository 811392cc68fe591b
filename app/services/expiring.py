"""A map whose entries expire a fixed time after they were stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    """Entries live a fixed time from when they were stored (reads do not extend them), so a
    change in the database is seen within that time; bounded by dropping the oldest."""

    def __init__(
        self, ttl_s: float, monotonic: Callable[[], float], *, max_entries: int = 10_000
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._monotonic():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self._ttl_s <= 0:
            return
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (self._monotonic() + self._ttl_s, value)

    def clear(self) -> None:
        self._entries.clear()
