"""On MongoDB (TEST_MONGODB_URI), the common pages are index walks: `explain` of the find that
ListImages sends shows an index scan and no in-memory sort of the collection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.image import normalize_image
from storage import documents
from storage.mongo import ensure_indexes
from storage.query import QueryContext, parse, sort_plan, to_filter
from tests.support.images import component, image, vuln
from tests.support.stores import MONGODB

pytestmark = [
    pytest.mark.skipif(not os.environ.get("TEST_MONGODB_URI"), reason="TEST_MONGODB_URI not set"),
    pytest.mark.parametrize("store", [MONGODB]),
]

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _stages(plan: dict[str, Any]) -> Iterator[str]:
    yield str(plan.get("stage"))
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), dict):
            yield from _stages(plan[key])
    for child in plan.get("inputStages") or ():
        yield from _stages(child)


async def _winning_stages(db: Any, query: str, *option: Any) -> list[str]:
    flt = to_filter(parse(query), QueryContext(now=NOW, risk_scores_desc=()))
    plan = sort_plan(*option) if option else sort_plan(None, False)
    command = {"find": "images", "filter": flt, "sort": dict(plan.sort), "limit": 20}
    reply = await db.command("explain", command, verbosity="queryPlanner")
    return list(_stages(reply["queryPlanner"]["winningPlan"]))


@pytest.fixture
async def seeded(db: Any) -> None:
    await ensure_indexes(db)
    docs = []
    for i in range(200):
        wire = image(
            f"{'docker.io' if i % 2 else 'quay.io'}/org/app{i}:{i}",
            component("openssl", "3", vuln(f"CVE-2024-{i}", float(i % 10), "LOW")),
            scanned=None if i % 7 == 0 else "2024-05-01T10:00:00Z",
        )
        docs.append(documents.to_stored(normalize_image(wire), last_updated=NOW))
    await db["images"].insert_many(docs)


@pytest.mark.parametrize(
    "option",
    [
        (),
        ("Image", False),
        ("Image", True),
        ("Image Top CVSS", False),
        ("Image Top CVSS", True),
    ],
    ids=["default", "image", "image-reversed", "top-cvss", "top-cvss-reversed"],
)
async def test_the_common_sorts_walk_an_index(db: Any, seeded: None, option: Any) -> None:
    stages = await _winning_stages(db, "", *option)
    assert "IXSCAN" in stages, stages
    assert "SORT" not in stages, stages
    assert "COLLSCAN" not in stages, stages


async def test_a_prefix_query_uses_an_index(db: Any, seeded: None) -> None:
    stages = await _winning_stages(db, "Image:docker.io/org/app1")
    assert "IXSCAN" in stages, stages
    assert "COLLSCAN" not in stages, stages
