"""``build_search_doc``: the flat, lower-cased ``_search`` sub-document queries run against.

Row strings (labels, layers, pairs) also keep their original spelling where it differs from the
lower-cased copy, for case-sensitive exact matches (see ``search_keys.ORIGINALS``); image-level
strings have theirs in the document itself.

The layout is flat on purpose: one array of (component, vulnerability) rows instead of nested
arrays, so a query needs at most one level of ``$elemMatch`` and no dotted path through arrays.
nx-27017: nested ``$elemMatch`` and dotted paths through arrays match nothing there; MongoDB would
also answer them on ``scan.components[].vulns[]`` directly. The keys are in ``search_keys``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from storage.query.dates import epoch_millis
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
    ORIGINALS,
    ComponentKey,
    ImageKey,
    LabelKey,
    LayerKey,
    VulnKey,
    original_key,
)

Doc = Mapping[str, Any]

# Every pair carries every key (None when not applicable) so that aggregation over
# "$_search.pairs.<key>" sees one value per row on every store.
_NO_VULN: dict[str, None] = dict.fromkeys(key.value for key in VulnKey)
# Row keys holding strings (lower-cased, with the original beside where it differs).
_COMPONENT_STRINGS = (
    ComponentKey.NAME,
    ComponentKey.VERSION,
    ComponentKey.LOCATION,
    ComponentKey.ID,
)
_VULN_STRINGS = (
    VulnKey.CVE,
    VulnKey.FIXED_BY,
    VulnKey.ADVISORY_NAME,
    VulnKey.ADVISORY_LINK,
    VulnKey.ID,
)
ROW_STRINGS: frozenset[str] = frozenset((*_COMPONENT_STRINGS, *_VULN_STRINGS, *LabelKey, *LayerKey))


def _map(value: Any) -> Doc:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _lc(value: Any) -> str:
    return _str(value).lower()


def _spelled(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Lower-case the strings under ``keys`` (None stays None); an original that differs stays
    beside its copy under ``original_key`` and its key is listed under ``ORIGINALS``."""
    listed = ""
    for key in keys:
        original = row[key]
        if original is None:
            continue
        lowered = row[key] = original.lower()
        if lowered != original:
            row[original_key(key)] = original
            listed += f"{key},"
    row[ORIGINALS] = f",{listed}" if listed else ""
    return row


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


def _millis(value: Any) -> int | None:
    """A date as epoch milliseconds, as every date in ``_search`` is kept.

    nx-27017: a date compared inside `$elemMatch` is compared as text there, so `$gt` holds for
    every date and `$lt` for none, and elsewhere at whole seconds; MongoDB would compare the
    dates themselves.
    """
    at = _time(value)
    return None if at is None else epoch_millis(at)


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
        ImageKey.CREATED: _millis(v1.get("created")),
        ImageKey.SCANNED: _millis(scan.get("scanTime")),
        ImageKey.SIGNATURE_FETCHED: _millis(_map(doc.get("signature")).get("fetched")),
        ImageKey.LAST_UPDATED: _millis(doc.get("lastUpdated")),
        ImageKey.COMMAND: _lcs(v1.get("command")),
        ImageKey.ENTRYPOINT: _lcs(v1.get("entrypoint")),
        ImageKey.VOLUMES: _lcs(v1.get("volumes")),
        ImageKey.LABELS: [
            _spelled({LabelKey.KEY: _str(k), LabelKey.VALUE: _str(v)}, tuple(LabelKey))
            for k, v in _map(v1.get("labels")).items()
        ],
        ImageKey.LAYERS: [
            _spelled(
                {
                    LayerKey.INSTRUCTION: _str(_map(layer).get("instruction")),
                    LayerKey.VALUE: _str(_map(layer).get("value")),
                },
                tuple(LayerKey),
            )
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
            pairs.append(_spelled({**row, HAS_VULN: False, **_NO_VULN}, _COMPONENT_STRINGS))
        for vuln in vulns:
            pair = {**row, HAS_VULN: True, **_vuln_row(_map(vuln), comp)}
            pairs.append(_spelled(pair, _COMPONENT_STRINGS + _VULN_STRINGS))
    return pairs


def _component_row(comp: Doc, base_max_layer: int | None) -> dict[str, Any]:
    layer_index = comp.get("layerIndex")
    in_base = (
        base_max_layer is not None and layer_index is not None and layer_index <= base_max_layer
    )
    parts = (comp.get("name"), comp.get("version"), comp.get("architecture"))
    return {
        ComponentKey.NAME: _str(comp.get("name")),
        ComponentKey.VERSION: _str(comp.get("version")),
        ComponentKey.SOURCE: SOURCE_TYPE.number(comp.get("source") or 0),
        ComponentKey.TOP_CVSS: _float(comp.get("topCvss")),
        ComponentKey.RISK_SCORE: _float(comp.get("riskScore")) or 0.0,
        ComponentKey.PRIORITY: int(comp.get("priority") or 0),
        ComponentKey.LOCATION: _str(comp.get("location")),
        ComponentKey.LAYER_TYPE: BASE_IMAGE if in_base else APPLICATION,
        ComponentKey.ID: "#".join(_str(p) for p in parts),
    }


def _vuln_row(vuln: Doc, comp: Doc) -> dict[str, Any]:
    state = VULNERABILITY_STATE.number(vuln.get("state") or 0)
    advisory = _map(vuln.get("advisory"))
    ids = (vuln.get("cve"), comp.get("name"), comp.get("version"))
    return {
        VulnKey.CVE: _str(vuln.get("cve")),
        VulnKey.CVSS: _float(vuln.get("cvss")) or 0.0,
        VulnKey.SEVERITY: VULNERABILITY_SEVERITY.number(vuln.get("severity") or 0),
        VulnKey.FIXABLE: bool(vuln.get("fixedBy")),
        VulnKey.FIXED_BY: _str(vuln.get("fixedBy")),
        VulnKey.STATE: state,
        VulnKey.IMPACT: _impact(vuln),
        VulnKey.NVD_CVSS: _nvd_cvss(vuln.get("cvssMetrics") or ()),
        VulnKey.PUBLISHED: _millis(vuln.get("publishedOn")),
        VulnKey.CREATED: _millis(vuln.get("firstSystemOccurrence")),
        VulnKey.FIRST_IMAGE_OCCURRENCE: _millis(vuln.get("firstImageOccurrence")),
        VulnKey.FIX_AVAILABLE: _millis(vuln.get("fixAvailableTimestamp")),
        VulnKey.EPSS: _float(_map(vuln.get("epss")).get("epssProbability")),
        VulnKey.KEV: vuln.get("exploit") is not None,
        VulnKey.ADVISORY_NAME: _str(advisory.get("name")),
        VulnKey.ADVISORY_LINK: _str(advisory.get("link")),
        VulnKey.ID: "#".join(_str(v) for v in ids),
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
