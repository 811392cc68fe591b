"""A reference evaluator of the search language over wire-shaped images (for the differential test).

It applies a parsed ``Query`` (``storage.query.parse``) to the JSON documents the API returns,
row by row as upstream's SQL joins do. It is written from the specification (reference §3 and
README "Search language" and "Compatibility with upstream"), not from ``storage/query/translate.py``
or the ``_search`` copy, so that a translation bug shows up as a difference between the two.

Semantics:
- clauses are ANDed, the values of a clause ORed;
- image-level fields are tested on the image; component and CVE fields on one row per
  (component, vulnerability), a component without vulnerabilities being a row without one
  (CVE fields never hold there: upstream's inner join); all component and CVE clauses of a query
  must hold on the same row; Dockerfile fields likewise on one layer;
- ``*`` = the value is set (strings and maps always are, lists when not empty); ``-`` on an
  image field = unset, on a component, CVE or layer label = the image has no such row (README
  item 20);
- strings: case-insensitive prefix, ``r/`` case-insensitive unanchored search, ``"…"``
  case-sensitive equality (upstream), ``!`` negates the value test (row-level: another row may
  match); a list field holds when some element does;
- ``Image Risk Priority`` is the dense rank of ``riskScore`` among the images (1 = riskiest).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.query.enums import (
    LAYER_TYPE,
    SOURCE_TYPE,
    VULNERABILITY_SEVERITY,
    VULNERABILITY_STATE,
    EnumTable,
)
from storage.query.nodes import (
    BoolIs,
    Clause,
    Compare,
    DateCmp,
    EnumIn,
    Exists,
    LabelMatch,
    MatchAll,
    Predicate,
    Query,
    Text,
    TextMode,
)

Doc = Mapping[str, Any]

IMAGE, PAIR, LAYER = "image", "pair", "layer"
COMPONENT, CVE = "component", "cve"


@dataclass(frozen=True)
class Row:
    """What one clause is tested on: the image, and the joined row when the field has one."""

    image: Doc
    priority: int
    component: Doc | None = None
    vuln: Doc | None = None
    layer: Doc | None = None


@dataclass(frozen=True)
class Column:
    """How a label reads its value from a row; ``None`` is SQL NULL."""

    level: str  # IMAGE, COMPONENT, CVE or LAYER
    read: Callable[[Row], Any]
    enum: EnumTable | None = None


def _get(doc: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return doc


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _list(value: Any) -> list[str] | None:
    """A string array; an empty one is NULL (upstream stores Go's empty slice as NULL)."""
    return list(value) if value else None


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _image(*path: str, kind: Callable[[Any], Any] = lambda v: v) -> Column:
    return Column(IMAGE, lambda row: kind(_get(row.image, *path)))


def _comp(read: Callable[[Doc], Any], enum: EnumTable | None = None) -> Column:
    return Column(COMPONENT, lambda row: read(row.component or {}), enum)


def _vuln(read: Callable[[Doc], Any], enum: EnumTable | None = None) -> Column:
    return Column(CVE, lambda row: read(row.vuln or {}), enum)


def _layer(key: str) -> Column:
    return Column(LAYER, lambda row: _get(row.layer, key) or "")


def _layer_type(row: Row) -> str:
    """BASE_IMAGE when the component's layer is within the first base image's layers."""
    infos = row.image.get("baseImageInfo") or []
    index = _get(row.component, "layerIndex")
    base_max = _get(infos[0], "maxLayerIndex") if infos else None
    in_base = base_max is not None and index is not None and int(index) <= int(base_max)
    return "BASE_IMAGE" if in_base else "APPLICATION"


def _impact(vuln: Doc) -> float | None:
    for key in ("cvssV3", "cvssV2"):
        if vuln.get(key) is not None:
            return _num(vuln[key].get("impactScore"))
    return None


def _nvd(vuln: Doc) -> float | None:
    for metric in vuln.get("cvssMetrics") or []:
        if metric.get("source") != "SOURCE_NVD":
            continue
        for key in ("cvssv3", "cvssv2"):
            if metric.get(key) is not None:
                return _num(metric[key].get("score"))
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# Synthetic ids, as the service defines them (storage/query/search_keys.py):
# a component is name#version#architecture, a vulnerability row cve#component#version.
def _component_id(comp: Doc) -> str:
    return "#".join(_text(comp.get(k)) for k in ("name", "version", "architecture"))


def _cve_id(row: Row) -> str:
    comp = row.component or {}
    return f"{_text(_get(row.vuln, 'cve'))}#{_text(comp.get('name'))}#{_text(comp.get('version'))}"


COLUMNS: Mapping[str, Column] = {
    label.lower(): column
    for label, column in {
        "Image": _image("name", "fullName", kind=_text),
        "Image Registry": _image("name", "registry", kind=_text),
        "Image Remote": _image("name", "remote", kind=_text),
        "Image Tag": _image("name", "tag", kind=_text),
        "Image Sha": _image("id", kind=_text),
        "Image Created Time": _image("metadata", "v1", "created", kind=_time),
        "Image User": _image("metadata", "v1", "user", kind=_text),
        "Image Command": _image("metadata", "v1", "command", kind=_list),
        "Image Entrypoint": _image("metadata", "v1", "entrypoint", kind=_list),
        "Image Volumes": _image("metadata", "v1", "volumes", kind=_list),
        "Image Label": _image("metadata", "v1", "labels", kind=lambda v: v or {}),
        "Dockerfile Instruction Keyword": _layer("instruction"),
        "Dockerfile Instruction Value": _layer("value"),
        "Image Scan Time": _image("scan", "scanTime", kind=_time),
        "Image OS": _image("scan", "operatingSystem", kind=_text),
        "Image Signature Fetched Time": _image("signature", "fetched", kind=_time),
        "Component Count": _image("components", kind=_num),
        "Image CVE Count": _image("cves", kind=_num),
        "Fixable CVE Count": _image("fixableCves", kind=_num),
        "Last Updated": _image("lastUpdated", kind=_time),
        "Image Risk Priority": Column(IMAGE, lambda row: row.priority),
        "Image Risk Score": _image("riskScore", kind=_num),
        "Image Top CVSS": _image("topCvss", kind=_num),
        "Component": _comp(lambda c: _text(c.get("name"))),
        "Component Version": _comp(lambda c: _text(c.get("version"))),
        "Component Source": _comp(lambda c: c.get("source") or "OS", SOURCE_TYPE),
        "Component Top CVSS": _comp(lambda c: _num(c.get("topCvss"))),
        "Component Risk Score": _comp(lambda c: _num(c.get("riskScore"))),
        "Component Risk Priority": _comp(lambda c: _num(c.get("priority"))),
        "Component Location": _comp(lambda c: _text(c.get("location"))),
        # Upstream copies the image's OS onto each component; the README lists it as image-level.
        "Operating System": _image("scan", "operatingSystem", kind=_text),
        "Component Layer Type": Column(COMPONENT, _layer_type, LAYER_TYPE),
        "Component ID": _comp(_component_id),
        "CVE": _vuln(lambda v: _text(v.get("cve"))),
        "CVSS": _vuln(lambda v: _num(v.get("cvss"))),
        "Severity": _vuln(lambda v: v.get("severity"), VULNERABILITY_SEVERITY),
        "Vulnerability State": _vuln(lambda v: v.get("state"), VULNERABILITY_STATE),
        "Fixable": _vuln(lambda v: bool(v.get("fixedBy"))),
        "Fixed By": _vuln(lambda v: _text(v.get("fixedBy"))),
        "Impact Score": _vuln(_impact),
        "NVD CVSS": _vuln(_nvd),
        "CVE Published On": _vuln(lambda v: _time(v.get("publishedOn"))),
        "CVE Created Time": _vuln(lambda v: _time(v.get("firstSystemOccurrence"))),
        "First Image Occurrence Timestamp": _vuln(lambda v: _time(v.get("firstImageOccurrence"))),
        "CVE Fix Available Timestamp": _vuln(lambda v: _time(v.get("fixAvailableTimestamp"))),
        "EPSS Probability": _vuln(lambda v: _num(_get(v, "epss", "epssProbability"))),
        "CISA KEV": _vuln(lambda v: v.get("exploit") is not None),
        "Advisory Name": _vuln(lambda v: _text(_get(v, "advisory", "name"))),
        "Advisory Link": _vuln(lambda v: _text(_get(v, "advisory", "link"))),
        "CVE ID": Column(CVE, _cve_id),
        # README item 9: suppressed, or in a state other than OBSERVED.
        "CVE Snoozed": _vuln(
            lambda v: bool(v.get("suppressed")) or (v.get("state") or "OBSERVED") != "OBSERVED"
        ),
    }.items()
}

_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def column(clause: Clause) -> Column:
    """The column of a clause's label.

    Raises:
        KeyError: a label the evaluator does not know (a new field: teach it here).
    """
    return COLUMNS[clause.field.label.lower()]


def dense_ranks(images: Iterable[Doc]) -> dict[str, int]:
    """Image id → its live priority: the dense rank of its risk score, highest first."""
    docs = list(images)
    order = sorted({float(d.get("riskScore") or 0.0) for d in docs}, reverse=True)
    rank = {score: i for i, score in enumerate(order, start=1)}
    return {d["id"]: rank[float(d.get("riskScore") or 0.0)] for d in docs}


def select(query: Query, images: Sequence[Doc], *, now: datetime) -> set[str]:
    """The ids of the images the query selects."""
    ranks = dense_ranks(images)
    return {doc["id"] for doc in images if matches(query, doc, ranks[doc["id"]], now=now)}


def matches(query: Query, image: Doc, priority: int, *, now: datetime) -> bool:
    """True when every clause holds for the image."""
    whole = Row(image, priority)
    groups: dict[str, list[Clause]] = {PAIR: [], LAYER: []}
    for clause in query.clauses:
        level = column(clause).level
        if level == IMAGE:
            if not _clause_holds(clause, whole, now):
                return False
        elif clause.values == (Exists(False),):
            if _rows(image, priority, level):
                return False  # "-" on a joined label: the image has no such row at all
        else:
            groups[LAYER if level == LAYER else PAIR].append(clause)
    for group, clauses in groups.items():
        if clauses and not any(
            all(_clause_holds(c, row, now) for c in clauses)
            for row in _rows(image, priority, group)
        ):
            return False
    return True


def _rows(image: Doc, priority: int, level: str) -> list[Row]:
    """The joined rows of a level: layers, components, or (component, vulnerability) pairs."""
    if level == LAYER:
        layers = _get(image, "metadata", "v1", "layers") or []
        return [Row(image, priority, layer=layer) for layer in layers]
    components = _get(image, "scan", "components") or []
    if level == COMPONENT:
        return [Row(image, priority, component=c) for c in components]
    pairs = [
        Row(image, priority, component=c, vuln=v) for c in components for v in c.get("vulns") or []
    ]
    if level == CVE:
        return pairs
    lone = [Row(image, priority, component=c) for c in components if not c.get("vulns")]
    return pairs + lone


def _clause_holds(clause: Clause, row: Row, now: datetime) -> bool:
    col = column(clause)
    if col.level == CVE and row.vuln is None:
        return False  # a component without vulnerabilities has no CVE row to test
    value = col.read(row)
    return any(_value_holds(p, value, col, now) for p in clause.values)


def _value_holds(pred: Predicate, value: Any, col: Column, now: datetime) -> bool:
    if isinstance(pred, Exists):
        return (value is not None) == pred.present
    if isinstance(pred, MatchAll):
        return True
    if value is None:
        return False
    if isinstance(pred, Text):
        if isinstance(value, list):
            return any(text_matches(pred, str(v)) for v in value)
        return text_matches(pred, value)
    if isinstance(pred, LabelMatch):
        return _label_matches(pred, value)
    if isinstance(pred, BoolIs):
        return bool(value) == pred.value
    if isinstance(pred, Compare):
        return all(_COMPARE[op](value, operand) for op, operand in pred.ops)
    if isinstance(pred, EnumIn):
        assert col.enum is not None
        return col.enum.number(value) in pred.numbers
    if isinstance(pred, DateCmp):
        for bound in pred.bounds:
            at = bound.at if bound.at is not None else now - timedelta(days=bound.days_ago or 0)
            if not _COMPARE[bound.op](value, at):
                return False
        return True
    raise TypeError(f"unknown predicate {pred!r}")


def text_matches(pred: Text, value: str) -> bool:
    """One string value against a string predicate, negation included."""
    if pred.mode is TextMode.PREFIX:
        hit = value.lower().startswith(pred.text.lower())
    elif pred.mode is TextMode.EXACT:
        hit = value == pred.text
    else:
        hit = re.search(pred.text, value, re.IGNORECASE) is not None
    return hit != pred.negated


def _label_matches(pred: LabelMatch, labels: Mapping[str, str]) -> bool:
    """Some entry whose key and value match (or, with ``absent``, no such entry)."""
    found = any(
        (pred.key is None or text_matches(pred.key, key))
        and (pred.value is None or text_matches(pred.value, value))
        for key, value in labels.items()
    )
    return found != pred.absent
