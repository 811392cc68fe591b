"""``sort_plan``: a REST sort option (field, reversed, aggregateBy) → stored paths to sort on.

Every key is a plain stored path (``_sort`` keys, see ``sort_keys``), ending with the
tie-breaker, all in one direction (but for COUNT of an image-level field): a find sorts on them
as they are, and an index on the same paths in the same order (ascending; walked backwards for a
descending sort) serves the sort.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.query.errors import InvalidQuery
from storage.query.fields import Field, lookup
from storage.query.search_keys import ImageKey
from storage.query.sort_keys import ID_PATH, is_multi, multi_keys, scalar_key

AGGREGATIONS = ("UNSET", "COUNT", "MIN", "MAX")
# Ties break on the lower-cased digest, i.e. in `_id` order.
# nx-27017: a compound index that contains `_id` is corrupted there, and `_id` in a range
# condition is evaluated in Python; the sorts need compound indexes ending in the tie-breaker
# (indexes.py) and keyset pages a range on it. MongoDB would take `_id` itself.
TIE_BREAKER = ImageKey.SHA.path
# The export's order, on the wire value (ListImages' default is `sort_plan(None, False)`).
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
class SortKey:
    path: str
    direction: int  # 1 ascending, -1 descending


@dataclass(frozen=True)
class SortPlan:
    """The keys to sort on, in order; the last one is the tie-breaker, so paging is stable."""

    keys: tuple[SortKey, ...]

    @property
    def sort(self) -> list[tuple[str, int]]:
        """The ``sort`` argument of a find."""
        return [(key.path, key.direction) for key in self.keys]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(key.path for key in self.keys)


def sort_plan(
    field: str | None, reversed_: bool, aggr: str = "UNSET", distinct: bool = False
) -> SortPlan:
    """Plan the sort for a REST ``SortOption``; no field = ``Last Updated`` ascending.

    Sorting on a component/CVE/layer field (or a string array) orders images by the minimum of
    that field over their rows when ascending and by the maximum when descending; ``aggr``
    COUNT/MIN/MAX (optionally distinct) sorts by that aggregate instead. Nulls sort last in both
    directions. COUNT of an image-level field is 1 when it is set (0 for a null). Ties break on
    the digest, in the direction of the (last) field sorted on.

    Raises:
        InvalidQuery: unknown, unsupported or unsortable field, or unknown aggregation.
    """
    if not field:
        return _assemble(_keys(lookup("Last Updated"), 1, "UNSET", False), 1)
    aggregation = aggr.upper()
    if aggregation not in AGGREGATIONS:
        valid = ", ".join(AGGREGATIONS)
        raise InvalidQuery(f'unknown aggregation "{aggr}": valid ones are {valid}')
    direction = -1 if reversed_ else 1
    if field == ID_PATH:
        return _assemble([], direction)
    keys: list[SortKey] = []
    for label, invert in _REWRITES.get(field, ((field, False),)):
        target = lookup(label, what="sort field")
        if not target.sortable:
            raise InvalidQuery(f'sort field "{target.label}" is not sortable')
        direction = -1 if reversed_ ^ invert ^ target.sort_inverted else 1
        keys += _keys(target, direction, aggregation, distinct)
    return _assemble(keys, direction)


def _keys(field: Field, direction: int, aggregation: str, distinct: bool) -> list[SortKey]:
    """One field's keys. Ascending, a nullable value is preceded by its null flag (set only on
    nulls, so they come last); descending, nulls (not stored) come last by themselves."""
    null: str | None
    if is_multi(field):
        multi = multi_keys(field)
        if aggregation == "COUNT":
            return [SortKey(multi.distinct if distinct else multi.count, direction)]
        low = aggregation == "MIN" or (aggregation == "UNSET" and direction == 1)
        value, null = (multi.lo if low else multi.hi), multi.null
    elif field.sort_path == ID_PATH:
        return []  # the digest: the tie-breaker alone
    else:
        scalar = scalar_key(field)
        if aggregation == "COUNT":
            # 1 when set, 0 when null: ascending counts are descending null flags (with ties
            # still ascending: no index serves it). A field that is never null counts 1
            # everywhere, which leaves the tie-breaker.
            return [] if scalar.null is None else [SortKey(scalar.null, -direction)]
        value, null = scalar.value, scalar.null
    if direction == 1 and null is not None:
        return [SortKey(null, 1), SortKey(value, 1)]
    return [SortKey(value, direction)]


def _assemble(keys: list[SortKey], tie: int) -> SortPlan:
    """The keys, each once, then the tie-breaker in the direction of the last field (so that
    reversing a sort reverses the order of the images that tie)."""
    unique: dict[str, SortKey] = {}
    for key in keys:
        unique.setdefault(key.path, key)
    unique.setdefault(TIE_BREAKER, SortKey(TIE_BREAKER, tie))
    return SortPlan(tuple(unique.values()))
