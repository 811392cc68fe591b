"""Risk scores on upsert and live priorities from the cached ranking."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from app.services.ranking import RiskRanker
from app.services.risk import dense_ranks, score_image
from schemas.image import normalize_image
from tests.support.images import component, image, vuln

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def scored(raw: dict[str, Any]) -> dict[str, Any]:
    doc = normalize_image(raw)
    score_image(doc, now=NOW)
    return doc


def test_no_factor_means_zero() -> None:
    assert scored(image("docker.io/a/b:1", scanned=None, created=None))["riskScore"] == 0.0


def test_more_severe_vulnerabilities_rank_higher() -> None:
    critical = scored(image("docker.io/a/b:1", component("x", "1", vuln("C-1", 9.8, "CRITICAL"))))
    low = scored(image("docker.io/a/c:1", component("x", "1", vuln("C-2", 2.0, "LOW"))))
    clean = scored(image("docker.io/a/d:1", component("x", "1")))
    assert critical["riskScore"] > low["riskScore"] > clean["riskScore"] > 0


def test_snoozed_vulnerabilities_do_not_count() -> None:
    snoozed = scored(
        image(
            "docker.io/a/b:1", component("x", "1", vuln("C-1", 9.8, "CRITICAL", state="DEFERRED"))
        )
    )
    clean = scored(image("docker.io/a/b:1", component("x", "1")))
    assert snoozed["riskScore"] == clean["riskScore"]


def test_age_raises_risk_and_saturates() -> None:
    young = scored(image("docker.io/a/b:1", created="2025-12-01T00:00:00Z"))
    old = scored(image("docker.io/a/b:1", created="2024-01-01T00:00:00Z"))
    ancient = scored(image("docker.io/a/b:1", created="2015-01-01T00:00:00Z"))
    assert young["riskScore"] < old["riskScore"] <= ancient["riskScore"]
    assert ancient["riskScore"] <= 1.5 * 1.5 * 4


def test_component_scores_and_priorities() -> None:
    doc = scored(
        image(
            "docker.io/a/b:1",
            component("a", "1", vuln("C-1", 9.8, "CRITICAL")),
            component("b", "1"),
            component("c", "1", vuln("C-2", 5.0, "MODERATE")),
        )
    )
    components = doc["scan"]["components"]
    assert [c["priority"] for c in components] == ["1", "3", "2"]
    assert components[1]["riskScore"] == 0.0


def test_dense_ranks_share_equal_scores() -> None:
    assert dense_ranks([1.0, 3.0, 3.0, 2.0]) == {3.0: 1, 2.0: 2, 1.0: 3}


async def test_ranker_loads_once_then_refreshes_in_the_background() -> None:
    loads = 0
    scores = [1.0, 5.0, 5.0, 0.0]

    async def load() -> list[float]:
        nonlocal loads
        loads += 1
        return list(scores)

    clock = [0.0]
    ranker = RiskRanker(load, ttl_s=2.0, clock=lambda: clock[0])
    priority = await ranker.ranker()
    assert [priority(s) for s in (5.0, 1.0, 0.0, 9.0)] == [1, 2, 3, 1]
    assert list(await ranker.scores_desc()) == [5.0, 1.0, 0.0]
    assert loads == 1
    # stale: the old list answers while one refresh runs behind it
    clock[0] = 3.0
    scores.append(7.0)
    assert list(await ranker.scores_desc()) == [5.0, 1.0, 0.0]
    await asyncio.sleep(0)
    assert loads == 2
    assert list(await ranker.scores_desc()) == [7.0, 5.0, 1.0, 0.0]
    # a local write counts at once, without a load
    ranker.add([3.0, 5.0])
    assert list(await ranker.scores_desc()) == [7.0, 5.0, 3.0, 1.0, 0.0]
    assert loads == 2
    ranker.invalidate()
    await ranker.ranker()
    await asyncio.sleep(0)
    assert loads == 3


async def test_a_failed_background_refresh_keeps_the_old_list() -> None:
    calls = 0

    async def load() -> list[float]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("database away")
        return [2.0]

    ranker = RiskRanker(load, ttl_s=0.0)
    assert list(await ranker.scores_desc()) == [2.0]
    assert list(await ranker.scores_desc()) == [2.0]
    await asyncio.sleep(0)
    assert calls == 2
    assert list(await ranker.scores_desc()) == [2.0]
