"""``sort_plan``: a REST sort option (field, reversed, aggregateBy) → MongoDB sort instructions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.query.errors import InvalidQuery
from storage.query.fields import PAIRS, Field, Kind, Level, lookup

AGGREGATIONS = ("UNSET", "COUNT", "MIN", "MAX")
# The tie-breaker: the lower-cased digest, i.e. `_id` order. Not `_id` itself, because the local
# stand-in store corrupts compound indexes that contain `_id`, and the sorts need such indexes.
TIE_BREAKER = "_search.sha"
DEFAULT_SORT: list[tuple[str, int]] = [("lastUpdated", 1), (TIE_BREAKER, 1)]

# Applied only when the label is spelled exactly so (upstream SortFieldsMap is case-sensitive):
# label → ((target label, invert direction), …).
_REWRITES: dict[str, tuple[tuple[str, bool], ...]] = {
    "Image": (("Image Registry", False), ("Image Remote", False), ("Image Tag", False)),
    "Component": (("Component", False), ("Component Version", False)),
    "Image Risk Priority": (("Image Risk Score", True),),
    "Component Risk Priority": (("Component Risk Score", True),),
}


@dataclass(frozen=True)
class SortPlan:
    """How to order images.

    When ``find_sort`` is set a plain ``find().sort(find_sort)`` suffices. Otherwise run
    ``$match``, ``$addFields: add_fields``, ``$sort: sort``, then ``$skip``/``$limit``, then drop
    ``remove_fields`` (see ``pipeline`` and ``project_out``). ``sort`` is always filled and ends
    with ``_id`` so that paging is stable.
    """

    find_sort: list[tuple[str, int]] | None
    add_fields: dict[str, Any] | None
    sort: dict[str, int]
    remove_fields: list[str]

    def pipeline(self) -> list[dict[str, Any]]:
        """The ``$addFields`` (if any) and ``$sort`` stages, to follow ``$match``."""
        stages: list[dict[str, Any]] = []
        if self.add_fields:
            stages.append({"$addFields": self.add_fields})
        stages.append({"$sort": dict(self.sort)})
        return stages

    def project_out(self) -> dict[str, Any] | None:
        """A ``$project`` stage removing the computed sort keys, None when there are none."""
        if not self.remove_fields:
            return None
        return {"$project": dict.fromkeys(self.remove_fields, 0)}


@dataclass(frozen=True)
class _Key:
    """A sort key on an existing ``path`` or a computed ``value``; ``null_test``: nulls last."""

    path: str | None
    value: Any
    null_test: Any
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
        return SortPlan(list(DEFAULT_SORT), None, dict(DEFAULT_SORT), [])
    aggregation = aggr.upper()
    if aggregation not in AGGREGATIONS:
        valid = ", ".join(AGGREGATIONS)
        raise InvalidQuery(f'unknown aggregation "{aggr}": valid ones are {valid}')
    direction = -1 if reversed_ else 1
    if field == "_id":
        return _assemble([_Key("_id", None, None, direction)])
    keys = []
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


def _count_components(key: str) -> Any:
    """COUNT of a component field: components having it, not their (component, vuln) pairs."""
    having = {
        "$filter": {
            "input": {"$ifNull": [f"${PAIRS}", []]},
            "as": "p",
            "cond": {"$ne": [{"$ifNull": [f"$$p.{key}", None]}, None]},
        }
    }
    return {"$size": {"$setUnion": [{"$map": {"input": having, "as": "p", "in": "$$p.cid"}}, []]}}


def _count(source: str, multi: bool, distinct: bool) -> Any:
    """COUNT of non-null values per image (a scalar counts 0 or 1)."""
    if not multi:
        return {"$cond": [{"$eq": [{"$ifNull": [source, None]}, None]}, 0, 1]}
    values: Any = {
        "$filter": {"input": {"$ifNull": [source, []]}, "as": "x", "cond": {"$ne": ["$$x", None]}}
    }
    if distinct:
        values = {"$setUnion": [values, []]}
    return {"$size": values}


def _assemble(keys: list[_Key]) -> SortPlan:
    add: dict[str, Any] = {}
    sort: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key.null_test is not None:
            is_null = {"$eq": [{"$ifNull": [key.null_test, None]}, None]}
            add[f"_sn{i}"] = {"$cond": [is_null, 1, 0]}
            sort[f"_sn{i}"] = 1
        if key.path is None:
            add[f"_sk{i}"] = key.value
            sort[f"_sk{i}"] = key.direction
        else:
            sort.setdefault(key.path, key.direction)
    # Ties break on _id in the direction of the last key, so reversing a sort reverses the list.
    if "_id" not in sort:
        sort.setdefault(TIE_BREAKER, keys[-1].direction)
    if not add:
        return SortPlan(list(sort.items()), None, sort, [])
    return SortPlan(None, add, sort, list(add))
