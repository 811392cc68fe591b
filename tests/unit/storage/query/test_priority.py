"""Image Risk Priority predicates rewritten onto riskScore through the live dense ranking."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from storage.query import QueryContext, parse, to_filter

NEVER: dict[str, Any] = {"_id": {"$in": []}}
SCORES = (9.5, 7.0, 4.25, 1.0)  # distinct scores, highest first: priorities 1…4


def _f(text: str, scores: tuple[float, ...] = SCORES) -> dict[str, Any]:
    ctx = QueryContext(now=datetime(2024, 1, 1, tzinfo=UTC), risk_scores_desc=scores)
    return to_filter(parse(text), ctx)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", {"riskScore": {"$gte": 9.5}}),  # open upwards: a new top score is priority 1 too
        ("2", {"riskScore": 7.0}),
        ("3", {"riskScore": 4.25}),
        ("4", {"riskScore": {"$lte": 1.0}}),
        ("5", NEVER),
        ("0", NEVER),
        ("2.5", NEVER),
        ("<3", {"riskScore": {"$gte": 7.0}}),
        ("<=3", {"riskScore": {"$gte": 4.25}}),
        ("<2.5", {"riskScore": {"$gte": 7.0}}),
        (">2", {"riskScore": {"$lte": 4.25}}),
        (">=2", {"riskScore": {"$lte": 7.0}}),
        (">=1.5", {"riskScore": {"$lte": 7.0}}),
        (">4", NEVER),
        ("<1", NEVER),
        ("<=4", {}),
        (">0", {}),
        ("1-4", {"riskScore": {"$lte": 7.0, "$gte": 4.25}}),
        ("1-3", {"riskScore": 7.0}),
        ("1-2", NEVER),
        ("1,3", {"$or": [{"riskScore": {"$gte": 9.5}}, {"riskScore": 4.25}]}),
        ("5,2", {"riskScore": 7.0}),
        ("<10,2", {}),
        ("*", {"riskScore": {"$exists": True, "$ne": None}}),
    ],
)
def test_priority_rewrite(value: str, expected: dict[str, Any]) -> None:
    assert _f(f"Image Risk Priority:{value}") == expected


def test_single_score_ranks_everything_first() -> None:
    assert _f("Image Risk Priority:1", (3.0,)) == {}
    assert _f("Image Risk Priority:2", (3.0,)) == NEVER


def test_no_scores_no_priorities() -> None:
    assert _f("Image Risk Priority:1", ()) == NEVER


def test_priority_combines_with_other_clauses() -> None:
    assert _f("Image Risk Priority:2+Image:x") == {
        "riskScore": 7.0,
        "_search.full": {"$gte": "x", "$lt": "y"},
    }
