"""``elem_match``: a condition on one row of a flat array as ``$elemMatch`` the local store can
evaluate: ORs lifted out (one ``$elemMatch`` per alternative), two tests of one key joined.

nx-27017: ``$or`` and ``$and`` inside ``$elemMatch`` match nothing there; MongoDB would take the
condition as it is inside one ``$elemMatch``.
"""

from __future__ import annotations

import operator
from typing import Any

from storage.query.errors import InvalidQuery
from storage.query.fields import all_fields
from storage.query.search_keys import ORIGINALS
from storage.query.truth import Cond, Outcome, Truth, all_of, any_of

# Row conditions with ORs become one `$elemMatch` per alternative; the values of several such
# clauses multiply, so their product is capped.
MAX_ROW_ALTERNATIVES = 1024


def elem_match(array: str, cond: Outcome) -> Outcome:
    """Some row of ``array`` satisfies ``cond``; ORs inside become one ``$elemMatch`` each.

    "Some row holds A and (B or C)" is "some row holds A and B, or some row holds A and C".
    nx-27017: ``$or`` and ``$and`` inside ``$elemMatch`` match nothing there; MongoDB would take
    ``cond`` as it is inside one ``$elemMatch``.

    Raises:
        InvalidQuery: the alternatives would be more than ``MAX_ROW_ALTERNATIVES``.
    """
    if isinstance(cond, Truth):
        return cond
    if _count_alternatives(cond) > MAX_ROW_ALTERNATIVES:
        raise InvalidQuery(
            "the values of the component, CVE, label or Dockerfile clauses combine into more "
            f"than {MAX_ROW_ALTERNATIVES} alternatives; split the query or use fewer values"
        )
    return any_of([{array: {"$elemMatch": alt}} for alt in _alternatives(cond)])


def _count_alternatives(cond: Cond) -> int:
    count = sum(_count_alternatives(alt) for alt in cond["$or"]) if "$or" in cond else 1
    for part in cond.get("$and", ()):
        count *= _count_alternatives(part)
    return count


def _alternatives(cond: Cond) -> list[Cond]:
    """``cond`` as an OR of conditions without ``$or`` or ``$and`` (disjunctive normal form);
    an alternative no row can pass is left out."""
    combos: list[Cond] = [{k: v for k, v in cond.items() if k not in ("$or", "$and")}]
    choices = [[a for alt in cond["$or"] for a in _alternatives(alt)]] if "$or" in cond else []
    choices += [_alternatives(part) for part in cond.get("$and", ())]
    for options in choices:
        pairs = (_both(combo, option) for combo in combos for option in options)
        combos = [both for both in pairs if both is not None]
    return combos


def _both(a: Cond, b: Cond) -> Cond | None:
    """``a`` and ``b`` on one row (None: no row passes both); two tests of ``ORIGINALS`` join
    their lookaheads, and two tests of one key (a label typed twice in other cases) join into
    one operator document.

    nx-27017: ``$and`` inside ``$elemMatch`` matches nothing there (see ``elem_match``);
    MongoDB would take the two tests under ``$and``.
    """
    if ORIGINALS in a and ORIGINALS in b:
        joined = a[ORIGINALS]["$regex"] + b[ORIGINALS]["$regex"].removeprefix("^")
        a = {**a, ORIGINALS: {"$regex": joined}}
        b = {k: v for k, v in b.items() if k != ORIGINALS}
    both = all_of([a, b])
    if isinstance(both, Truth):
        return {}
    for extra in both.pop("$and", []):
        ((key, test),) = extra.items()
        joined = _same_key(key, both[key], test)
        if joined is None:
            return None
        both[key] = joined
    return both


# How two bounds of one kind on the same key join: the tighter one holds.
_TIGHTER = {"$gt": max, "$gte": max, "$lt": min, "$lte": min}


def _same_key(key: str, first: Any, second: Any) -> dict[str, Any] | None:
    """Two tests of one key as one operator document; None when no value passes both.

    Raises:
        InvalidQuery: both use an operator that does not join this way (two patterns, say).
    """
    joined = _operators(first)
    for op, operand in _operators(second).items():
        if op not in joined or joined[op] == operand:
            joined[op] = operand
        elif op in _TIGHTER:
            joined[op] = _TIGHTER[op](joined[op], operand)
        elif op == "$eq" and joined[op] != operand:
            return None
        elif op != "$eq":
            raise InvalidQuery(
                f'two clauses on "{_row_label(key)}" (the label typed twice) cannot be combined; '
                "type it once"
            )
    return joined if _satisfiable(joined) else None


_PASSES = {
    "$eq": operator.eq, "$gt": operator.gt, "$gte": operator.ge,
    "$lt": operator.lt, "$lte": operator.le,
}  # fmt: skip


def _satisfiable(ops: dict[str, Any]) -> bool:
    """False when the number bounds leave no value (``$eq`` outside them, or low above high)."""
    bounds = {op: v for op, v in ops.items() if op in _PASSES and isinstance(v, int | float)}
    if "$eq" in bounds:
        return all(_PASSES[op](bounds["$eq"], v) for op, v in bounds.items())
    lows = [(v, op == "$gt") for op, v in bounds.items() if op in ("$gt", "$gte")]
    highs = [(v, op == "$lt") for op, v in bounds.items() if op in ("$lt", "$lte")]
    return all(
        low < high or (low == high and not (strict_low or strict_high))
        for low, strict_low in lows
        for high, strict_high in highs
    )


def _row_label(key: str) -> str:
    """The label of a row key (or of its original spelling's key), for messages."""
    for field in all_fields():
        if field.array is not None and key in (field.path, field.original):
            return field.label
    return key


def _operators(test: Any) -> dict[str, Any]:
    if isinstance(test, dict) and all(k.startswith("$") for k in test):
        return dict(test)
    return {"$eq": test}
