"""Registry metadata cached in memory by full name or digest, with an expiry refreshed on reads."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

DEFAULT_TTL_S = 4 * 3600.0


class MetadataCache:
    """A bounded, expiring map; `clear()` is InvalidateScanAndRegistryCaches."""

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = 10_000,
        max_weight: int | None = None,
        weigh: Callable[[Any], int] = lambda _: 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        # entries of very different sizes (analysed layers) are bounded by their weight too
        self._max_weight = max_weight
        self._weigh = weigh
        self._weight = 0
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str) -> Any | None:
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

    def put(self, key: str, value: Any) -> None:
        weight = self._weigh(value)
        if self._max_weight is not None and weight > self._max_weight:
            return  # would push out everything else
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self._clock() + self._ttl_s, value)
        self._weight += weight
        while len(self._entries) > self._max_entries or (
            self._max_weight is not None and self._weight > self._max_weight
        ):
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._weight -= self._weigh(value)

    def clear(self) -> None:
        self._entries.clear()
        self._weight = 0

    def __len__(self) -> int:
        return len(self._entries)
