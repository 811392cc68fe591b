"""In-memory caches of the scan: registry metadata by name, analysed layers by digest.

Both are least-recently-used maps whose entries expire a while after their last read or write;
the layer cache is also bounded by weight, since analysed layers differ in size a thousandfold.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_TTL_S = 4 * 3600.0


class TtlCache(Generic[K, V]):
    """A bounded, expiring map; reads refresh the expiry. `clear()` is
    InvalidateScanAndRegistryCaches."""

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        now = self._clock()
        if expires <= now:
            self._drop(key)
            return None
        self._entries[key] = (now + self._ttl_s, value)
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self._clock() + self._ttl_s, value)
        self._added(value)
        while len(self._entries) > self._max_entries or self._over():
            self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: K) -> V:
        return self._entries.pop(key)[1]

    def _added(self, value: V) -> None:
        """Account for a value just stored."""

    def _over(self) -> bool:
        """Whether entries must go beyond those over `max_entries`."""
        return False


class WeightedCache(TtlCache[K, V]):
    """A TtlCache also bounded by the summed weight of its values."""

    def __init__(
        self,
        *,
        max_weight: int,
        weigh: Callable[[V], int],
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(ttl_s=ttl_s, max_entries=max_entries, clock=clock)
        self._max_weight = max_weight
        self._weigh = weigh
        self._weight = 0

    def put(self, key: K, value: V) -> None:
        if self._weigh(value) > self._max_weight:
            return  # would push out everything else
        super().put(key, value)

    def clear(self) -> None:
        super().clear()
        self._weight = 0

    def _drop(self, key: K) -> V:
        value = super()._drop(key)
        self._weight -= self._weigh(value)
        return value

    def _added(self, value: V) -> None:
        self._weight += self._weigh(value)

    def _over(self) -> bool:
        return self._weight > self._max_weight
