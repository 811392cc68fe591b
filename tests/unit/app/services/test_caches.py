"""The expiring caches of registry metadata and analysed layers."""

from __future__ import annotations

from app.services.caches import TtlCache, WeightedCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_and_reads_refresh_them() -> None:
    clock = Clock()
    cache = TtlCache(ttl_s=10, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    clock.now = 8
    assert cache.get("a") == 1  # read: good for 10 s more
    clock.now = 12
    assert cache.get("a") == 1
    assert cache.get("b") is None
    assert len(cache) == 1
    cache.clear()
    assert cache.get("a") is None


def test_the_least_recently_used_entries_go_first() -> None:
    cache = TtlCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3


def test_weight_bounds_the_cache_and_replacing_an_entry_reweighs_it() -> None:
    cache = WeightedCache(max_weight=10, weigh=len)
    cache.put("a", "x" * 4)
    cache.put("b", "x" * 4)
    cache.put("a", "x" * 2)  # replaced: 6 in all
    cache.put("c", "x" * 4)  # 10: everything fits
    assert [cache.get(k) is not None for k in "abc"] == [True, True, True]
    cache.put("d", "x" * 5)  # over: the oldest go until it fits
    assert cache.get("b") is None
    assert cache.get("a") is None
    assert cache.get("d") == "x" * 5
    cache.put("huge", "x" * 11)  # bigger than the cache: not kept, nothing evicted
    assert cache.get("huge") is None
    assert cache.get("c") == "x" * 4
