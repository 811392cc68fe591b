"""Keyset paging: the rows after a position in a sort, as conjunctive range conditions.

A position is the last row's values of a plan's keys (the tie-breaker last). The rows after it
are a union of ranges, one per key from the last to the first: the same values on the keys before
it, and a value after the position's on that key. Each range is its own find (concatenated in
order), not one `$or`: every range is a plain conjunction that a store answers from the sort's
index, beginning at the position, so a page deep into a collection costs what the first does.
nx-27017: a filter with `$or` is evaluated in Python on every document from the first one on;
MongoDB would take one `$or` of the ranges.

Nulls: a null (or missing) value sorts before every other value on every store, so ascending,
the rows after a null are those with any value; descending, the rows after a value are those with
a lower value, then those with none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from storage.query.sorting import SortPlan

Filter = dict[str, Any]
# The values a position may hold: what `_sort` keys and the tie-breaker store.
SCALARS = (str, int, float)


def ranges_after(plan: SortPlan, position: Sequence[Any]) -> list[Filter]:
    """The conditions, in sort order, that select the rows after ``position``.

    Raises:
        ValueError: the position does not fit the plan (length, or a value of another type).
    """
    if len(position) != len(plan.keys):
        raise ValueError("the position has another number of values than the sort has keys")
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, SCALARS)) for v in position):
        raise ValueError("a position value is not a string or a number")
    ranges: list[Filter] = []
    for i in reversed(range(len(plan.keys))):
        key, value = plan.keys[i], position[i]
        prefix = {k.path: _equal(v) for k, v in zip(plan.keys[:i], position[:i], strict=True)}
        if key.direction == 1:
            after: Any = {"$gt": value} if value is not None else {"$exists": True, "$ne": None}
            ranges.append({**prefix, key.path: after})
        elif value is not None:
            ranges.append({**prefix, key.path: {"$lt": value}})
            ranges.append({**prefix, key.path: None})
    return ranges


def _equal(value: Any) -> Any:
    # `$eq`, not a bare value: nx-27017 answers a bare dotted-path equality with a condition that
    # also looks through arrays, which no index serves; MongoDB would take either.
    return None if value is None else {"$eq": value}


def position_of(row: Mapping[str, Any], plan: SortPlan) -> tuple[Any, ...]:
    """The values of the plan's keys on a row found with them projected (None when absent)."""
    return tuple(pick(row, path) for path in plan.paths)


_ABSENT = object()


def pick(row: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path of a projected row.

    nx-27017: a dotted projection comes back under the flat dotted key instead of nested;
    MongoDB nests it. Both shapes are read.
    """
    if path in row:
        return row[path]
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return default
        value = value.get(part, _ABSENT)
        if value is _ABSENT:
            return default
    return value


def with_range(flt: Mapping[str, Any], cond: Mapping[str, Any]) -> Filter:
    """``flt`` AND ``cond``, kept a flat conjunction where the keys allow (a top-level ``$and``
    would be evaluated in Python by nx-27017)."""
    merged: Filter = dict(flt)
    for path, condition in cond.items():
        if path not in merged:
            merged[path] = condition
            continue
        mine, theirs = _operators(condition), _operators(merged[path])
        if mine is None or theirs is None or set(mine) & set(theirs):
            return {"$and": [dict(flt), dict(cond)]}
        merged[path] = {**theirs, **mine}
    return merged


def _operators(condition: Any) -> dict[str, Any] | None:
    """A condition as a dict of operators, or None when it is something else (a plain value)."""
    if not isinstance(condition, Mapping) or not condition:
        return None
    return dict(condition) if all(str(k).startswith("$") for k in condition) else None
