"""``build_sort_doc``: the ``_sort`` sub-document, every sort key an image can be ordered by.

Sorts read stored values only (no computed keys), so that a store can walk an index instead of
evaluating every document. Computed when an image is written, next to ``_search`` (from which
the component, CVE and layer values are taken, so they compare as ``_search`` holds them).

Values are plain scalars that compare alike on every store: numbers, strings, and dates as epoch
milliseconds (nx-27017: a date in a range condition turns a find into a Python scan of every
document there; MongoDB would compare dates natively). Booleans become 0/1. A null value is not
stored at all (it sorts before every value on every store), nor is a count of 0.

Per image-level scalar field (``scalar_key``): its value; when the field is nullable, also
``<key>_z`` = 1 when it is null (absent otherwise), so an ascending sort can put nulls last.
Per field with many values per image (component, CVE and layer fields, and string arrays such as
``Image Command``; ``multi_keys``): the minimum ``_lo``, the maximum ``_hi``, the count of values
``_n`` (of components having one, for a component field), the count of distinct values ``_d``,
and ``_z`` = 1 when the image has no value at all.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.query.fields import Field, Kind, Level, all_fields
from storage.query.search_keys import LAYERS, PAIRS, SEARCH, ComponentKey

SORT = "_sort"

# Image-level scalar fields by their wire path → key under `_sort`. The keys are stored layout.
_SCALARS: Mapping[str, str] = {
    "lastUpdated": "lu",
    "name.fullName": "full",
    "name.registry": "reg",
    "name.remote": "rem",
    "name.tag": "tag",
    "metadata.v1.user": "user",
    "scan.operatingSystem": "os",
    "riskScore": "risk",
    "metadata.v1.created": "ctime",
    "scan.scanTime": "stime",
    "signature.fetched": "sigt",
    "components": "comps",
    "cves": "cves",
    "fixableCves": "fixc",
    "topCvss": "top",
}
# The digest is sorted on the tie-breaker itself (sorting.py), not on a copy.
ID_PATH = "_id"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class ScalarKeys:
    """Where an image-level scalar field's sort key is: ``value``, and ``null`` (the flag set
    when the value is null) for a nullable field."""

    value: str
    null: str | None


@dataclass(frozen=True)
class MultiKeys:
    """Where the aggregates of a field with many values per image are."""

    lo: str
    hi: str
    count: str
    distinct: str
    null: str


def is_multi(field: Field) -> bool:
    """Whether an image holds many values of the field (joined rows or a string array)."""
    return field.array is not None or field.kind is Kind.STRINGS


def _path(key: str) -> str:
    return f"{SORT}.{key}"


def scalar_key(field: Field) -> ScalarKeys:
    """The stored sort key of an image-level scalar field.

    Raises:
        KeyError: the field has no stored key (a new sortable field needs one in ``_SCALARS``).
    """
    key = _SCALARS[str(field.sort_path)]
    return ScalarKeys(_path(key), _path(f"{key}_z") if field.nullable else None)


def _multi_base(field: Field) -> str:
    # A joined field: its row key; a string array: its `_search` key (the last path part).
    return field.path if field.array else field.path.rsplit(".", 1)[-1]


def multi_keys(field: Field) -> MultiKeys:
    base = _path(_multi_base(field))
    return MultiKeys(f"{base}_lo", f"{base}_hi", f"{base}_n", f"{base}_d", f"{base}_z")


@functools.cache
def _sortable() -> tuple[tuple[Field, ...], tuple[Field, ...]]:
    """Sortable image-level scalars and multi-valued fields, one per stored key."""
    scalars: dict[str, Field] = {}
    multis: dict[str, Field] = {}
    for field in all_fields():
        if not field.sortable or field.sort_path == ID_PATH and not is_multi(field):
            continue
        if is_multi(field):
            multis.setdefault(multi_keys(field).lo, field)
        else:
            scalars.setdefault(scalar_key(field).value, field)
    return tuple(scalars.values()), tuple(multis.values())


def build_sort_doc(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Build ``_sort`` for a stored image document whose ``_search`` is built already."""
    scalars, multis = _sortable()
    out: dict[str, Any] = {}
    for field in scalars:
        _put_scalar(out, field, _wire(doc, str(field.sort_path)))
    search = doc.get(SEARCH) or {}
    for field in multis:
        _put_multi(out, field, doc, search)
    return out


def _put_scalar(out: dict[str, Any], field: Field, raw: Any) -> None:
    keys = scalar_key(field)
    if field.kind is Kind.DATE and isinstance(raw, str):
        raw = _parsed_time(raw)
    value = _comparable(raw)
    if value is None and field.kind is Kind.STRING:
        value = ""  # a missing string is the empty one (proto3 has no null strings)
    if value is not None:
        out[_key(keys.value)] = value
    elif keys.null is not None:
        out[_key(keys.null)] = 1


def _put_multi(out: dict[str, Any], field: Field, doc: Mapping[str, Any], search: Any) -> None:
    keys = multi_keys(field)
    if field.array is None:  # a string array of the image, compared as sent
        raw = _wire(doc, str(field.sort_path))
        rows: Sequence[Any] = ()
        values = [_comparable(v) for v in raw] if isinstance(raw, list) else []
    else:
        rows = _rows(search, PAIRS if field.array == PAIRS else LAYERS)
        values = [_comparable(row.get(field.path)) for row in rows]
    present = [v for v in values if v is not None]
    if not present:
        out[_key(keys.null)] = 1
        return
    out[_key(keys.lo)] = min(present)
    out[_key(keys.hi)] = max(present)
    out[_key(keys.count)] = _count(field, rows, present)
    out[_key(keys.distinct)] = len(set(present))


def _count(field: Field, rows: Sequence[Mapping[str, Any]], present: list[Any]) -> int:
    """How many values an image has; for a component field, how many components have one."""
    if field.level is not Level.COMPONENT:
        return len(present)
    return len({row.get(ComponentKey.ID) for row in rows if row.get(field.path) is not None})


def _rows(search: Any, array: str) -> list[Mapping[str, Any]]:
    rows = search.get(array.rsplit(".", 1)[-1]) if isinstance(search, Mapping) else None
    return [r for r in rows or () if isinstance(r, Mapping)]


def _key(path: str) -> str:
    return path.removeprefix(f"{SORT}.")


def _wire(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _comparable(value: Any) -> Any:
    """A value as stored for sorting: dates as epoch milliseconds, booleans as 0/1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, int | float | str):
        return value
    return None


def _parsed_time(text: str) -> datetime | None:
    """A stored RFC 3339 string, read as the search copies read it (for robustness)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is UTC (as drivers hand dates back)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MS


def sort_paths() -> Iterable[str]:
    """Every path under ``_sort`` that ``build_sort_doc`` may write (for tests and docs)."""
    scalars, multis = _sortable()
    for field in scalars:
        keys = scalar_key(field)
        yield keys.value
        if keys.null:
            yield keys.null
    for field in multis:
        m = multi_keys(field)
        yield from (m.lo, m.hi, m.count, m.distinct, m.null)
