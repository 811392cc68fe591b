"""Rewrite of ``Image Risk Priority`` predicates onto ``riskScore`` using the live score ranking."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from storage.query.nodes import Compare
from storage.query.truth import Outcome, Truth

RISK_SCORE = "riskScore"


def _bounds(ops: tuple[tuple[str, float], ...], count: int) -> tuple[int, int]:
    """The inclusive range of integer priorities 1…count that satisfy every comparison."""
    low, high = 1, count
    for op, value in ops:
        if op == "$eq":
            if value != math.floor(value):
                return 1, 0
            low, high = max(low, int(value)), min(high, int(value))
        elif op == "$gt":
            low = max(low, math.floor(value) + 1)
        elif op == "$gte":
            low = max(low, math.ceil(value))
        elif op == "$lt":
            high = min(high, math.ceil(value) - 1)
        elif op == "$lte":
            high = min(high, math.floor(value))
    return low, high


def priority_condition(compare: Compare, scores_desc: Sequence[float]) -> Outcome:
    """Translate a priority comparison into a riskScore condition.

    Priority is a dense rank: priority p is held by the images whose score is
    ``scores_desc[p-1]`` (the distinct scores, highest first), so a priority range [lo, hi] is
    the score range [scores_desc[hi-1], scores_desc[lo-1]]. An open end stays open, so an image
    whose score appeared after the list was read is ranked as it would be now.
    """
    low, high = _bounds(compare.ops, len(scores_desc))
    if low > high:
        return Truth.NEVER
    ops: dict[str, Any] = {}
    if low > 1:
        ops["$lte"] = scores_desc[low - 1]
    if high < len(scores_desc):
        ops["$gte"] = scores_desc[high - 1]
    if not ops:
        return Truth.ALWAYS
    if len(ops) == 2 and ops["$lte"] == ops["$gte"]:
        return {RISK_SCORE: ops["$lte"]}
    return {RISK_SCORE: ops}
