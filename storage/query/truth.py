"""Constant outcomes of translating a predicate, and AND/OR over filter documents."""

from __future__ import annotations

import enum
from typing import Any

Cond = dict[str, Any]


class Truth(enum.Enum):
    """A predicate that holds for every image, or for none."""

    ALWAYS = "always"
    NEVER = "never"


Outcome = Cond | Truth


def any_of(outcomes: list[Outcome]) -> Outcome:
    """OR: ALWAYS wins, NEVER drops out."""
    if Truth.ALWAYS in outcomes:
        return Truth.ALWAYS
    conds = [o for o in outcomes if not isinstance(o, Truth)]
    if not conds:
        return Truth.NEVER
    return conds[0] if len(conds) == 1 else {"$or": conds}


def all_of(outcomes: list[Outcome]) -> Outcome:
    """AND: NEVER wins, ALWAYS drops out; conditions merge into one document where keys allow."""
    if Truth.NEVER in outcomes:
        return Truth.NEVER
    merged: Cond = {}
    rest: list[Cond] = []
    for cond in outcomes:
        if isinstance(cond, Truth):
            continue
        for key, value in cond.items():
            if key not in merged:
                merged[key] = value
            elif key in ("$nor", "$and"):
                merged[key] = [*merged[key], *value]  # NOR(a)∧NOR(b) = NOR(a, b)
            elif _disjoint_operators(merged[key], value):
                merged[key] = {**merged[key], **value}
            else:
                rest.append({key: value})
    if rest:
        merged["$and"] = [*merged.get("$and", []), *rest]
    return merged if merged else Truth.ALWAYS


def _disjoint_operators(a: object, b: object) -> bool:
    """Two operator documents on one path ({"$gt": 1} and {"$lt": 5}) can share it."""
    return (
        isinstance(a, dict)
        and isinstance(b, dict)
        and all(k.startswith("$") for k in (*a, *b))
        and not set(a) & set(b)
    )
