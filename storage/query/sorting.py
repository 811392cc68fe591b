"""``sort_plan``: a REST sort option (field, reversed, aggregateBy) → MongoDB sort instructions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.query.errors import InvalidQuery
from storage.query.fields import Field, Kind, Level, lookup
from storage.query.search_keys import PAIRS, ComponentKey, ImageKey

AGGREGATIONS = ("UNSET", "COUNT", "MIN", "MAX")
# Ties break on the lower-cased digest, i.e. in `_id` order.
# nx-27017: a compound index that contains `_id` is corrupted there, and the sorts need compound
# indexes ending in the tie-breaker (indexes.py); MongoDB would take `_id` itself.
TIE_BREAKER = ImageKey.SHA.path
DEFAULT_SORT: list[tuple[str, int]] = [("lastUpdated", 1), (TIE_BREAKER, 1)]
# Computed per image by `$addFields`, suffixed with the sort key's position:
NULL_RANK = "_sortNullRank"  # 1 when the key's value is null or missing, so nulls sort last
SORT_VALUE = "_sortKey"  # the value sorted on, when it is computed (an aggregate over rows)

# Applied only when the label is spelled exactly so (upstream SortFieldsMap is case-sensitive):
# label → ((target label, invert direction), …).
_REWRITES: dict[str, tuple[tuple[str, bool], ...]] = {
    "Image": (("Image Registry", False), ("Image Remote", False), ("Image Tag", False)),
    "Component": (("Component", False), ("Component Version", False)),
    "Image Risk Priority": (("Image Risk Score", True),),
    "Component Risk Priority": (("Component Risk Score", True),),
}

Expr = Any  # an aggregation expression


@dataclass(frozen=True)
class SortPlan:
    """How to order images: after ``$match``, ``$addFields: add_fields`` (when computed keys are
    needed) and ``$sort: sort`` (see ``pipeline``).

    ``sort`` ends with the tie-breaker (or ``_id``) so that paging is stable. The computed keys
    stay on the documents; the final ``$project`` of a read leaves them out.
    """

    add_fields: dict[str, Expr] | None
    sort: dict[str, int]

    def pipeline(self) -> list[dict[str, Any]]:
        """The ``$addFields`` (if any) and ``$sort`` stages, to follow ``$match``."""
        stages: list[dict[str, Any]] = []
        if self.add_fields:
            stages.append({"$addFields": self.add_fields})
        stages.append({"$sort": dict(self.sort)})
        return stages


@dataclass(frozen=True)
class _Key:
    """A sort key on an existing ``path`` or a computed ``value``; ``null_test``: nulls last."""

    path: str | None
    value: Expr
    null_test: Expr
    direction: int


def sort_plan(
    field: str | None, reversed_: bool, aggr: str = "UNSET", distinct: bool = False
) -> SortPlan:
    """Plan the sort for a REST ``SortOption``; no field = ``Last Updated`` ascending.

    Sorting on a component/CVE/layer field orders images by the minimum of that field over their
    rows when ascending and by the maximum when descending; ``aggr`` COUNT/MIN/MAX (optionally
    distinct) sorts by that aggregate instead. Nulls sort last in both directions.

    Raises:
        InvalidQuery: unknown, unsupported or unsortable field, or unknown aggregation.
    """
    if not field:
        return SortPlan(None, dict(DEFAULT_SORT))
    aggregation = aggr.upper()
    if aggregation not in AGGREGATIONS:
        valid = ", ".join(AGGREGATIONS)
        raise InvalidQuery(f'unknown aggregation "{aggr}": valid ones are {valid}')
    direction = -1 if reversed_ else 1
    if field == "_id":
        return _assemble([_Key("_id", None, None, direction)])
    keys: list[_Key] = []
    for label, invert in _REWRITES.get(field, ((field, False),)):
        target = lookup(label, what="sort field")
        if not target.sortable:
            raise InvalidQuery(f'sort field "{target.label}" is not sortable')
        flipped = reversed_ ^ invert ^ target.sort_inverted
        keys.append(_key(target, -1 if flipped else 1, aggregation, distinct))
    return _assemble(keys)


def _key(field: Field, direction: int, aggregation: str, distinct: bool) -> _Key:
    multi = field.array is not None or field.kind is Kind.STRINGS
    source = "$" + (field.full_path if field.array else str(field.sort_path))
    if aggregation == "COUNT" and field.level is Level.COMPONENT and not distinct:
        return _Key(None, _count_components(field.path), None, direction)
    if aggregation == "COUNT":
        return _Key(None, _count(source, multi, distinct), None, direction)
    if aggregation in ("MIN", "MAX") and multi:
        value = {f"${aggregation.lower()}": source}
        return _Key(None, value, value, direction)
    if field.array is not None:  # joined rows: MIN ascending, MAX descending (upstream)
        value = {"$min" if direction == 1 else "$max": source}
        return _Key(None, value, value, direction)
    return _Key(field.sort_path, None, source if field.nullable else None, direction)


def _count_components(key: str) -> Expr:
    """COUNT of a component field: components having it, not their (component, vuln) pairs."""
    having = {
        "$filter": {
            "input": {"$ifNull": [f"${PAIRS}", []]},
            "as": "p",
            "cond": {"$ne": [{"$ifNull": [f"$$p.{key}", None]}, None]},
        }
    }
    ids = {"$map": {"input": having, "as": "p", "in": f"$$p.{ComponentKey.ID}"}}
    return {"$size": {"$setUnion": [ids, []]}}


def _count(source: str, multi: bool, distinct: bool) -> Expr:
    """COUNT of non-null values per image (a scalar counts 0 or 1)."""
    if not multi:
        return {"$cond": [{"$eq": [{"$ifNull": [source, None]}, None]}, 0, 1]}
    values: Expr = {
        "$filter": {"input": {"$ifNull": [source, []]}, "as": "x", "cond": {"$ne": ["$$x", None]}}
    }
    if distinct:
        values = {"$setUnion": [values, []]}
    return {"$size": values}


def _assemble(keys: list[_Key]) -> SortPlan:
    add: dict[str, Expr] = {}
    sort: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key.null_test is not None:
            is_null = {"$eq": [{"$ifNull": [key.null_test, None]}, None]}
            add[f"{NULL_RANK}{i}"] = {"$cond": [is_null, 1, 0]}
            sort[f"{NULL_RANK}{i}"] = 1
        if key.path is None:
            add[f"{SORT_VALUE}{i}"] = key.value
            sort[f"{SORT_VALUE}{i}"] = key.direction
        else:
            sort.setdefault(key.path, key.direction)
    # Ties break in the direction of the last key, so reversing a sort reverses the list.
    if "_id" not in sort:
        sort.setdefault(TIE_BREAKER, keys[-1].direction)
    return SortPlan(add or None, sort)
