"""Risk scores computed on upsert.

An image's risk is the product of multipliers, each 1.0 when it does not apply; the
score is 0 when none applies (upstream's convention):

- vulnerabilities: ``1 + 3 * min(1, S / 10)`` where ``S`` sums, over distinct observed,
  unsuppressed CVEs, ``(cvss / 10) ** 2`` weighted by severity (critical 1.0, important 0.75,
  moderate 0.5, low 0.25, unknown 0.1); saturates at ten critical-grade CVEs → [1, 4];
- components: ``1 + 0.5 * min(1, n / 500)`` for ``n`` scanned components → [1, 1.5];
- age: ``1 + 0.5 * min(1, (days - 180) / 540)`` when the image was created more than 180
  days ago → [1, 1.5].

A component's risk is ``1 + 3 * min(1, S / 10)`` over its own vulnerabilities (0 without
any), and its priority is its dense rank by that score within the image (1 = riskiest).
Scores are rounded to 4 decimals so that equal risks rank equally.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

SEVERITY_WEIGHT = {
    "CRITICAL_VULNERABILITY_SEVERITY": 1.0,
    "IMPORTANT_VULNERABILITY_SEVERITY": 0.75,
    "MODERATE_VULNERABILITY_SEVERITY": 0.5,
    "LOW_VULNERABILITY_SEVERITY": 0.25,
}
_UNKNOWN_WEIGHT = 0.1
_VULN_SATURATION = 10.0
_COMPONENT_SATURATION = 500
_AGE_GRACE_DAYS = 180
_AGE_SATURATION_DAYS = 540


def _observed(vuln: Mapping[str, Any]) -> bool:
    return not vuln.get("suppressed") and vuln.get("state", "OBSERVED") == "OBSERVED"


def _severity_sum(vulns: Iterable[Mapping[str, Any]]) -> float:
    by_cve: dict[str, float] = {}
    for vuln in vulns:
        if not _observed(vuln):
            continue
        weight = SEVERITY_WEIGHT.get(vuln.get("severity", ""), _UNKNOWN_WEIGHT)
        value = (float(vuln.get("cvss") or 0.0) / 10.0) ** 2 * weight
        cve = vuln.get("cve", "")
        by_cve[cve] = max(by_cve.get(cve, 0.0), value)
    return sum(by_cve.values())


def _vuln_multiplier(total: float) -> float:
    return 1.0 + 3.0 * min(1.0, total / _VULN_SATURATION)


def score_image(image: dict[str, Any], *, now: datetime) -> None:
    """Set `riskScore` on the image and `riskScore`/`priority` on its components."""
    components = ((image.get("scan") or {}).get("components")) or []
    multipliers: list[float] = []
    all_vulns = [v for c in components for v in (c.get("vulns") or [])]
    if total := _severity_sum(all_vulns):
        multipliers.append(_vuln_multiplier(total))
    if components:
        multipliers.append(1.0 + 0.5 * min(1.0, len(components) / _COMPONENT_SATURATION))
    created = ((image.get("metadata") or {}).get("v1") or {}).get("created")
    if created is not None and (age := (now - created).days) > _AGE_GRACE_DAYS:
        multipliers.append(1.0 + 0.5 * min(1.0, (age - _AGE_GRACE_DAYS) / _AGE_SATURATION_DAYS))
    score = 0.0
    if multipliers:
        score = 1.0
        for m in multipliers:
            score *= m
    image["riskScore"] = round(score, 4)
    _score_components(components)


def _score_components(components: list[dict[str, Any]]) -> None:
    for component in components:
        total = _severity_sum(component.get("vulns") or [])
        component["riskScore"] = round(_vuln_multiplier(total), 4) if total else 0.0
    ranks = dense_ranks(c["riskScore"] for c in components)
    for component in components:
        component["priority"] = str(ranks[component["riskScore"]])


def dense_ranks(scores: Iterable[float]) -> dict[float, int]:
    """Rank of each distinct score, highest first (1 = riskiest)."""
    return {score: rank for rank, score in enumerate(sorted(set(scores), reverse=True), start=1)}
