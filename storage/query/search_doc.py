"""``build_search_doc``: the flat, lower-cased ``_search`` sub-document queries run against.

The layout is flat on purpose: one array of (component, vulnerability) rows instead of nested
arrays, so a query needs at most one level of ``$elemMatch`` and no dotted path through arrays.
nx-27017: nested ``$elemMatch`` and dotted paths through arrays match nothing there; MongoDB would
also answer them on ``scan.components[].vulns[]`` directly. The keys are in ``search_keys``.
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
from storage.query.search_keys import (
    HAS_VULN,
    ComponentKey,
    ImageKey,
    LabelKey,
    LayerKey,
    VulnKey,
)

Doc = Mapping[str, Any]

# Every pair carries every key (None when not applicable) so that aggregation over
# "$_search.pairs.<key>" sees one value per row on every store.
_NO_VULN: dict[str, None] = dict.fromkeys(key.value for key in VulnKey)


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
        ImageKey.FULL_NAME: _lc(name.get("fullName")),
        ImageKey.REGISTRY: _lc(name.get("registry")),
        ImageKey.REMOTE: _lc(name.get("remote")),
        ImageKey.TAG: _lc(name.get("tag")),
        ImageKey.SHA: _lc(doc.get("_id")),
        ImageKey.USER: _lc(v1.get("user")),
        ImageKey.OS: _lc(scan.get("operatingSystem")),
        ImageKey.COMMAND: _lcs(v1.get("command")),
        ImageKey.ENTRYPOINT: _lcs(v1.get("entrypoint")),
        ImageKey.VOLUMES: _lcs(v1.get("volumes")),
        ImageKey.LABELS: [
            {LabelKey.KEY: _lc(k), LabelKey.VALUE: _lc(v)}
            for k, v in _map(v1.get("labels")).items()
        ],
        ImageKey.LAYERS: [
            {
                LayerKey.INSTRUCTION: _lc(_map(layer).get("instruction")),
                LayerKey.VALUE: _lc(_map(layer).get("value")),
            }
            for layer in v1.get("layers") or ()
        ],
        ImageKey.PAIRS: _pairs(scan.get("components") or (), _base_max_layer(doc)),
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
            pairs.append({**row, HAS_VULN: False, **_NO_VULN})
        for vuln in vulns:
            pairs.append({**row, HAS_VULN: True, **_vuln_row(_map(vuln), comp)})
    return pairs


def _component_row(comp: Doc, base_max_layer: int | None) -> dict[str, Any]:
    layer_index = comp.get("layerIndex")
    in_base = (
        base_max_layer is not None and layer_index is not None and layer_index <= base_max_layer
    )
    parts = (comp.get("name"), comp.get("version"), comp.get("architecture"))
    return {
        ComponentKey.NAME: _lc(comp.get("name")),
        ComponentKey.VERSION: _lc(comp.get("version")),
        ComponentKey.SOURCE: SOURCE_TYPE.number(comp.get("source") or 0),
        ComponentKey.TOP_CVSS: _float(comp.get("topCvss")),
        ComponentKey.RISK_SCORE: _float(comp.get("riskScore")) or 0.0,
        ComponentKey.PRIORITY: int(comp.get("priority") or 0),
        ComponentKey.LOCATION: _lc(comp.get("location")),
        ComponentKey.LAYER_TYPE: BASE_IMAGE if in_base else APPLICATION,
        ComponentKey.ID: "#".join(_lc(p) for p in parts),
    }


def _vuln_row(vuln: Doc, comp: Doc) -> dict[str, Any]:
    state = VULNERABILITY_STATE.number(vuln.get("state") or 0)
    cve = _lc(vuln.get("cve"))
    advisory = _map(vuln.get("advisory"))
    return {
        VulnKey.CVE: cve,
        VulnKey.CVSS: _float(vuln.get("cvss")) or 0.0,
        VulnKey.SEVERITY: VULNERABILITY_SEVERITY.number(vuln.get("severity") or 0),
        VulnKey.FIXABLE: bool(vuln.get("fixedBy")),
        VulnKey.FIXED_BY: _lc(vuln.get("fixedBy")),
        VulnKey.STATE: state,
        VulnKey.IMPACT: _impact(vuln),
        VulnKey.NVD_CVSS: _nvd_cvss(vuln.get("cvssMetrics") or ()),
        VulnKey.PUBLISHED: _time(vuln.get("publishedOn")),
        VulnKey.CREATED: _time(vuln.get("firstSystemOccurrence")),
        VulnKey.FIRST_IMAGE_OCCURRENCE: _time(vuln.get("firstImageOccurrence")),
        VulnKey.FIX_AVAILABLE: _time(vuln.get("fixAvailableTimestamp")),
        VulnKey.EPSS: _float(_map(vuln.get("epss")).get("epssProbability")),
        VulnKey.KEV: vuln.get("exploit") is not None,
        VulnKey.ADVISORY_NAME: _lc(advisory.get("name")),
        VulnKey.ADVISORY_LINK: _lc(advisory.get("link")),
        VulnKey.ID: f"{cve}#{_lc(comp.get('name'))}#{_lc(comp.get('version'))}",
        VulnKey.SNOOZED: bool(vuln.get("suppressed")) or (state is not None and state != OBSERVED),
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
