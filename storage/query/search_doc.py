"""``build_search_doc``: the flat, lower-cased ``_search`` sub-document queries run against.

The layout is flat on purpose: one array of (component, vulnerability) rows instead of nested
arrays, so a query needs at most one level of ``$elemMatch`` and no dotted path through arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from storage.query.enums import (
    APPLICATION,
    BASE_IMAGE,
    CVSS_SOURCE,
    OBSERVED,
    SOURCE_NVD,
    SOURCE_TYPE,
    VULNERABILITY_SEVERITY,
    VULNERABILITY_STATE,
)

Doc = Mapping[str, Any]

# Every pair carries every key (None when not applicable) so that aggregation over
# "$_search.pairs.<key>" sees one value per row on every store.
_VULN_KEYS = (
    "cve", "cvss", "sev", "fix", "fb", "st", "imp", "nvd", "pub", "crt", "fio", "fat",
    "epss", "kev", "an", "al", "vid", "snz",
)  # fmt: skip


def _map(value: Any) -> Doc:
    return value if isinstance(value, Mapping) else {}


def _lc(value: Any) -> str:
    return "" if value is None else str(value).lower()


def _lcs(values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        return []
    return [_lc(v) for v in values]


def _float(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) else float(value)


def _time(value: Any) -> datetime | None:
    """Stored timestamps are datetimes; an RFC 3339 string is accepted for robustness."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


def build_search_doc(doc: Doc) -> dict[str, Any]:
    """Build ``_search`` for a stored image document (wire shape, with ``_id``)."""
    name = _map(doc.get("name"))
    v1 = _map(_map(doc.get("metadata")).get("v1"))
    scan = _map(doc.get("scan"))
    return {
        "full": _lc(name.get("fullName")),
        "registry": _lc(name.get("registry")),
        "remote": _lc(name.get("remote")),
        "tag": _lc(name.get("tag")),
        "sha": _lc(doc.get("_id")),
        "user": _lc(v1.get("user")),
        "os": _lc(scan.get("operatingSystem")),
        "cmd": _lcs(v1.get("command")),
        "ep": _lcs(v1.get("entrypoint")),
        "vol": _lcs(v1.get("volumes")),
        "labels": [{"k": _lc(k), "v": _lc(v)} for k, v in _map(v1.get("labels")).items()],
        "layers": [
            {"ins": _lc(_map(layer).get("instruction")), "val": _lc(_map(layer).get("value"))}
            for layer in v1.get("layers") or ()
        ],
        "pairs": _pairs(scan.get("components") or (), _base_max_layer(doc)),
    }


def _base_max_layer(doc: Doc) -> int | None:
    infos = doc.get("baseImageInfo") or ()
    if not infos:
        return None
    index = _map(infos[0]).get("maxLayerIndex")
    return None if index is None else int(index)


def _pairs(components: Sequence[Any], base_max_layer: int | None) -> list[dict[str, Any]]:
    pairs: list[dict[str, Any]] = []
    for raw in components:
        comp = _map(raw)
        row = _component_row(comp, base_max_layer)
        vulns = comp.get("vulns") or ()
        if not vulns:
            pairs.append({**row, "v": False, **dict.fromkeys(_VULN_KEYS)})
        for vuln in vulns:
            pairs.append({**row, "v": True, **_vuln_row(_map(vuln), comp)})
    return pairs


def _component_row(comp: Doc, base_max_layer: int | None) -> dict[str, Any]:
    layer_index = comp.get("layerIndex")
    in_base = (
        base_max_layer is not None and layer_index is not None and layer_index <= base_max_layer
    )
    parts = (comp.get("name"), comp.get("version"), comp.get("architecture"))
    return {
        "c": _lc(comp.get("name")),
        "cv": _lc(comp.get("version")),
        "cs": SOURCE_TYPE.number(comp.get("source") or 0),
        "ctc": _float(comp.get("topCvss")),
        "crs": _float(comp.get("riskScore")) or 0.0,
        "cp": int(comp.get("priority") or 0),
        "cl": _lc(comp.get("location")),
        "lt": BASE_IMAGE if in_base else APPLICATION,
        "cid": "#".join(_lc(p) for p in parts),
    }


def _vuln_row(vuln: Doc, comp: Doc) -> dict[str, Any]:
    state = VULNERABILITY_STATE.number(vuln.get("state") or 0)
    cve = _lc(vuln.get("cve"))
    advisory = _map(vuln.get("advisory"))
    return {
        "cve": cve,
        "cvss": _float(vuln.get("cvss")) or 0.0,
        "sev": VULNERABILITY_SEVERITY.number(vuln.get("severity") or 0),
        "fix": bool(vuln.get("fixedBy")),
        "fb": _lc(vuln.get("fixedBy")),
        "st": state,
        "imp": _impact(vuln),
        "nvd": _nvd_cvss(vuln.get("cvssMetrics") or ()),
        "pub": _time(vuln.get("publishedOn")),
        "crt": _time(vuln.get("firstSystemOccurrence")),
        "fio": _time(vuln.get("firstImageOccurrence")),
        "fat": _time(vuln.get("fixAvailableTimestamp")),
        "epss": _float(_map(vuln.get("epss")).get("epssProbability")),
        "kev": vuln.get("exploit") is not None,
        "an": _lc(advisory.get("name")),
        "al": _lc(advisory.get("link")),
        "vid": f"{cve}#{_lc(comp.get('name'))}#{_lc(comp.get('version'))}",
        "snz": bool(vuln.get("suppressed")) or (state is not None and state != OBSERVED),
    }


def _impact(vuln: Doc) -> float | None:
    for key in ("cvssV3", "cvssV2"):
        metric = vuln.get(key)
        if isinstance(metric, Mapping):
            return _float(metric.get("impactScore"))
    return None


def _nvd_cvss(metrics: Sequence[Any]) -> float | None:
    """Score of the NVD entry in cvssMetrics[], CVSS v3 preferred over v2."""
    for raw in metrics:
        metric = _map(raw)
        if CVSS_SOURCE.number(metric.get("source") or 0) != SOURCE_NVD:
            continue
        for key in ("cvssv3", "cvssv2"):
            if isinstance(metric.get(key), Mapping):
                return _float(metric[key].get("score"))
    return None
