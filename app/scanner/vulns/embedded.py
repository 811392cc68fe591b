"""An advisory that matched, as a wire-shaped storage.EmbeddedVulnerability.

Scores, in this order:
1. the advisory's own CVSS: the v3 base score when it has a valid v3 vector, else the v2 one
   (`scoreVersion` says which), else a v4 vector's base score (as `cvss` with `scoreVersion`
   "V3": the enum has no V4; v4 scores share the 0-10 scale and rating bands of v3; no
   `cvssV3`/`cvssV2` object then);
2. without any, the same CVE's vectors from another record of the feed (`borrowed`: the CVE's
   own NVD-derived record first, then a GHSA, then any other), in the same v3, v2, v4 order.

`severity`: a distribution's own rating when its advisory has one (Debian urgency, Ubuntu
priority, a vendor's severity): the distribution knows how its build is affected; else the
band of the score; else a language advisory's textual rating (GHSA level); else UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from app.scanner.vulns.matching import LANGUAGE_FAMILIES, Match, ecosystem_family
from app.scanner.vulns.osv import format_utc

UNKNOWN = "UNKNOWN_VULNERABILITY_SEVERITY"
LOW = "LOW_VULNERABILITY_SEVERITY"
MODERATE = "MODERATE_VULNERABILITY_SEVERITY"
IMPORTANT = "IMPORTANT_VULNERABILITY_SEVERITY"
CRITICAL = "CRITICAL_VULNERABILITY_SEVERITY"

IMAGE_VULNERABILITY = "IMAGE_VULNERABILITY"

_HINT_SEVERITIES = {
    "critical": CRITICAL,
    "high": IMPORTANT,
    "important": IMPORTANT,
    "medium": MODERATE,
    "moderate": MODERATE,
    "low": LOW,
    "negligible": LOW,
    "unimportant": LOW,
}

_V3_ENUMS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": (
        "attackVector",
        {
            "N": "ATTACK_NETWORK",
            "A": "ATTACK_ADJACENT",
            "L": "ATTACK_LOCAL",
            "P": "ATTACK_PHYSICAL",
        },
    ),
    "AC": ("attackComplexity", {"L": "COMPLEXITY_LOW", "H": "COMPLEXITY_HIGH"}),
    "PR": (
        "privilegesRequired",
        {"N": "PRIVILEGE_NONE", "L": "PRIVILEGE_LOW", "H": "PRIVILEGE_HIGH"},
    ),
    "UI": ("userInteraction", {"N": "UI_NONE", "R": "UI_REQUIRED"}),
    "S": ("scope", {"U": "UNCHANGED", "C": "CHANGED"}),
    "C": ("confidentiality", {"N": "IMPACT_NONE", "L": "IMPACT_LOW", "H": "IMPACT_HIGH"}),
    "I": ("integrity", {"N": "IMPACT_NONE", "L": "IMPACT_LOW", "H": "IMPACT_HIGH"}),
    "A": ("availability", {"N": "IMPACT_NONE", "L": "IMPACT_LOW", "H": "IMPACT_HIGH"}),
}
_V2_IMPACT = {"N": "IMPACT_NONE", "P": "IMPACT_PARTIAL", "C": "IMPACT_COMPLETE"}
_V2_ENUMS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("attackVector", {"L": "ATTACK_LOCAL", "A": "ATTACK_ADJACENT", "N": "ATTACK_NETWORK"}),
    "AC": ("accessComplexity", {"H": "ACCESS_HIGH", "M": "ACCESS_MEDIUM", "L": "ACCESS_LOW"}),
    "Au": ("authentication", {"M": "AUTH_MULTIPLE", "S": "AUTH_SINGLE", "N": "AUTH_NONE"}),
    "C": ("confidentiality", _V2_IMPACT),
    "I": ("integrity", _V2_IMPACT),
    "A": ("availability", _V2_IMPACT),
}


def to_embedded_vulnerability(
    advisory: Mapping[str, Any],
    match: Match,
    now: datetime,
    borrowed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The EmbeddedVulnerability for a matched advisory (JSON names, enum names, RFC 3339).

    `fixedBy` is left out when the advisory has no fix information. `now` stamps the first
    occurrences, and `fixAvailableTimestamp` of a fixable vulnerability (OSV does not say
    when a fix appeared); a rematch should keep the stamps an earlier scan recorded.
    """
    v3, v2, v4 = _scores(advisory.get("cvss_vectors") or {})
    if not (v3 or v2 or v4) and borrowed:
        v3, v2, v4 = _scores(borrowed)
    scored = v3 or v2
    score = float(scored["score"]) if scored else (v4 or 0.0)
    # V2 is the proto default, the value upstream shows when there is no score at all
    score_version = "V2" if v2 or not (v3 or v4) else "V3"
    osv_id, cve = advisory["osv_id"], advisory.get("cve") or advisory["osv_id"]
    stamp = format_utc(now)
    vuln: dict[str, Any] = {
        "cve": cve,
        # a distro notice or GHSA behind the CVE; not for ids like DEBIAN-CVE-2024-1
        "advisory": None if cve in osv_id else {"name": osv_id, "link": advisory["link"]},
        "cvss": score,
        "summary": advisory.get("summary") or "",
        "link": advisory["link"],
        "scoreVersion": score_version,
        "cvssV2": v2,
        "cvssV3": v3,
        "publishedOn": advisory.get("published"),
        "lastModified": advisory.get("modified"),
        "vulnerabilityType": IMAGE_VULNERABILITY,
        "vulnerabilityTypes": [IMAGE_VULNERABILITY],
        "firstSystemOccurrence": stamp,
        "firstImageOccurrence": stamp,
        "fixAvailableTimestamp": stamp if match.fixed_by else None,
        "severity": _severity(advisory, score),
        "state": "OBSERVED",
        "origin": "VULN_ORIGIN_OSV",
    }
    if match.fixed_by is not None:
        vuln["fixedBy"] = match.fixed_by
    return vuln


def _scores(
    vectors: Mapping[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, float | None]:
    """(CVSS v3 object, v2 object, v4 score): the first valid of v3, v2, v4; None for others."""
    v3 = cvss_v3(vectors.get("v3"))
    v2 = None if v3 else cvss_v2(vectors.get("v2"))
    v4 = None if v3 or v2 else cvss_v4_score(vectors.get("v4"))
    return v3, v2, v4


def _severity(advisory: Mapping[str, Any], score: float) -> str:
    rating = severity_for_hint(advisory.get("severity_hint"))
    if rating != UNKNOWN and ecosystem_family(advisory["ecosystem"]) not in LANGUAGE_FAMILIES:
        return rating
    return severity_for_score(score) if score > 0 else rating


def severity_for_score(score: float) -> str:
    """≥9 critical, ≥7 important, ≥4 moderate, >0 low, else unknown."""
    if score >= 9.0:
        return CRITICAL
    if score >= 7.0:
        return IMPORTANT
    if score >= 4.0:
        return MODERATE
    if score > 0:
        return LOW
    return UNKNOWN


def severity_for_hint(hint: str | None) -> str:
    """A textual rating ("high", Debian's "low**", GHSA's "MODERATE") as a severity."""
    if not hint:
        return UNKNOWN
    return _HINT_SEVERITIES.get(hint.strip().rstrip("*").strip().lower(), UNKNOWN)


def cvss_v3(vector: str | None) -> dict[str, Any] | None:
    """The storage.CVSSV3 object for a CVSS 3.0/3.1 vector, or None if it is not one."""
    if not isinstance(vector, str):
        return None
    try:
        parsed = CVSS3(vector.strip())
    except CVSSError:
        return None
    out: dict[str, Any] = {
        "vector": parsed.clean_vector(),
        "exploitabilityScore": _one_decimal(parsed.esc),
        "impactScore": _one_decimal(max(parsed.isc, Decimal(0))),
    }
    for metric, (field, names) in _V3_ENUMS.items():
        out[field] = names[parsed.metrics[metric]]
    out["score"] = float(parsed.base_score)
    out["severity"] = parsed.severities()[0].upper()  # NONE, LOW, MEDIUM, HIGH, CRITICAL
    return out


def cvss_v2(vector: str | None) -> dict[str, Any] | None:
    """The storage.CVSSV2 object for a CVSS 2 vector (bare or "CVSS:2.0/"-prefixed)."""
    if not isinstance(vector, str):
        return None
    text = vector.strip().strip("()").removeprefix("CVSS:2.0/")
    try:
        parsed = CVSS2(text)
    except CVSSError:
        return None
    exploitability = Decimal(20)
    for metric in ("AV", "AC", "Au"):
        exploitability *= parsed.get_value(metric)
    out: dict[str, Any] = {"vector": parsed.clean_vector()}
    for metric, (field, names) in _V2_ENUMS.items():
        out[field] = names[parsed.metrics[metric]]
    out["exploitabilityScore"] = _one_decimal(exploitability)
    out["impactScore"] = _one_decimal(parsed.impact_equation())
    out["score"] = float(parsed.base_score)
    out["severity"] = parsed.severities()[0].upper()  # LOW, MEDIUM, HIGH
    return out


def cvss_v4_score(vector: str | None) -> float | None:
    if not isinstance(vector, str):
        return None
    try:
        return float(CVSS4(vector.strip()).base_score)
    except CVSSError:
        return None


def _one_decimal(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
