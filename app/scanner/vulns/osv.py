"""One OSV record (https://ossf.github.io/osv-schema/) as advisories, one per affected package.

An advisory is a plain dict of strings, lists and None, so storage can hold it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

OSV_LINK = "https://osv.dev/vulnerability/"
# Range types with comparable versions; GIT ranges name commits, which a scan never sees.
RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")

_CVE_RE = re.compile(r"CVE-\d{4}-\d+")

_PYPI_SEPARATORS = re.compile(r"[-_.]+")
_CVSS_TYPES = {"CVSS_V3": "v3", "CVSS_V2": "v2", "CVSS_V4": "v4"}
_HINT_KEYS = ("severity", "urgency", "priority")
_SUMMARY_RATINGS = frozenset({"Critical", "Important", "Moderate", "Low"})


class OsvError(ValueError):
    """The record does not follow the OSV schema closely enough to be used."""


class CvssVectors(TypedDict):
    v3: str | None
    v2: str | None
    v4: str | None


class Range(TypedDict):
    type: str  # ECOSYSTEM or SEMVER
    events: list[dict[str, str]]  # each one of {introduced|fixed|last_affected|limit: version}


class Advisory(TypedDict):
    ecosystem: str  # as OSV spells it: "Debian:12", "Alpine:v3.19", "PyPI"
    package: str  # see package_key
    osv_id: str
    cve: str  # the CVE id when the record names exactly one, else the OSV id
    aliases: list[str]
    summary: str
    link: str
    published: str | None  # RFC 3339 UTC with Z
    modified: str | None
    cvss_vectors: CvssVectors
    ranges: list[Range]
    versions: list[str]
    severity_hint: str | None  # a textual rating (Debian urgency, Ubuntu priority, GHSA level)


class CveScore(TypedDict):
    """The CVSS vectors one record gives a CVE, for advisories of that CVE that have none."""

    cve: str
    osv_id: str
    rank: int  # which record to prefer: 0 the CVE's own (NVD-derived) record, 1 a GHSA, 2 others
    cvss_vectors: CvssVectors
    ecosystems: list[str]  # those of the record ([] for one naming only repositories)


def package_key(ecosystem: str, name: str) -> str:
    """The name advisories are filed under: PyPI names are compared normalized (PEP 503)."""
    if ecosystem == "PyPI":
        return _PYPI_SEPARATORS.sub("-", name).lower()
    return name


def parse_record(record: Mapping[str, Any]) -> list[Advisory]:
    """The record's advisories, one per (ecosystem, package); none when it was withdrawn.

    Affected entries for the same package are merged; GIT ranges, malformed events and
    packages left with nothing to match are dropped.

    Raises:
        OsvError: no `id`, or fields of the wrong shape.
    """
    osv_id = record.get("id")
    if not isinstance(osv_id, str) or not osv_id:
        raise OsvError("record without an id")
    if record.get("withdrawn"):
        return []
    affected = _list(record, "affected")
    aliases = [a for a in _list(record, "aliases") if isinstance(a, str)]
    cve = primary_cve(osv_id, aliases, _list(record, "upstream"))
    summary = _summary(record)
    link = _link(osv_id, _list(record, "references"))
    published, modified = rfc3339(record.get("published")), rfc3339(record.get("modified"))
    top_severity = _list(record, "severity")
    top_hint = _hint(record.get("database_specific"))
    merged: dict[tuple[str, str], Advisory] = {}
    for entry in affected:
        if not isinstance(entry, Mapping):
            raise OsvError(f"{osv_id}: affected entry is not an object")
        package = entry.get("package")
        if not isinstance(package, Mapping):
            continue  # e.g. an entry naming only a GIT repository
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if not isinstance(ecosystem, str) or not isinstance(name, str) or not name:
            continue
        key = (ecosystem, package_key(ecosystem, name))
        ranges = _ranges(_list(entry, "ranges"))
        versions = [v for v in _list(entry, "versions") if isinstance(v, str)]
        severity = _list(entry, "severity") or top_severity
        advisory = merged.get(key)
        if advisory is None:
            merged[key] = advisory = Advisory(
                ecosystem=key[0],
                package=key[1],
                osv_id=osv_id,
                cve=cve,
                aliases=aliases,
                summary=summary,
                link=link,
                published=published,
                modified=modified,
                cvss_vectors=_vectors(severity),
                ranges=[],
                versions=[],
                severity_hint=_entry_hint(entry, severity) or top_hint or _summary_rating(summary),
            )
        advisory["ranges"].extend(ranges)
        advisory["versions"].extend(v for v in versions if v not in advisory["versions"])
    return [a for a in merged.values() if a["ranges"] or a["versions"]]


def cve_scores(record: Mapping[str, Any]) -> list[CveScore]:
    """The CVSS vectors of a record (top level, else its first affected entry that has some)
    for each CVE it is about: the one `primary_cve` names (its id, an id such as
    UBUNTU-CVE-2024-1, its only upstream CVE) and its CVE aliases. None for a withdrawn record
    or one without a CVSS vector.

    Raises:
        OsvError: fields of the wrong shape.
    """
    osv_id = record.get("id")
    if not isinstance(osv_id, str) or record.get("withdrawn"):
        return []
    vectors = _vectors(_list(record, "severity"))
    for entry in _list(record, "affected"):
        if any(vectors.values()):
            break
        if isinstance(entry, Mapping):
            vectors = _vectors(_list(entry, "severity"))
    if not any(vectors.values()):
        return []
    aliases = [a for a in _list(record, "aliases") if isinstance(a, str)]
    # the CVE the record is about (its id, or e.g. UBUNTU-CVE-2024-1's), then its CVE aliases
    about = primary_cve(osv_id, aliases, _list(record, "upstream"))
    cves = [about] if _CVE_RE.fullmatch(about) else []
    cves += [a for a in aliases if _CVE_RE.fullmatch(a) and a not in cves]
    rank = 0 if cves[:1] == [osv_id] else 1 if osv_id.startswith("GHSA-") else 2
    ecosystems = sorted(record_ecosystems(record))
    return [
        CveScore(cve=cve, osv_id=osv_id, rank=rank, cvss_vectors=vectors, ecosystems=ecosystems)
        for cve in cves
    ]


def record_ecosystems(record: Mapping[str, Any]) -> set[str]:
    """The ecosystems a record speaks about, withdrawn or not."""
    found: set[str] = set()
    for entry in _list(record, "affected"):
        package = entry.get("package") if isinstance(entry, Mapping) else None
        if isinstance(package, Mapping) and isinstance(package.get("ecosystem"), str):
            found.add(package["ecosystem"])
    return found


def primary_cve(osv_id: str, aliases: Iterable[str], upstream: Iterable[Any] = ()) -> str:
    """The CVE a record is about: its id, the first CVE alias, a prefixed id such as
    DEBIAN-CVE-2024-1 or UBUNTU-CVE-2024-1, or its only upstream CVE; else the OSV id.

    A notice fixing several CVEs (a USN listing many upstream ids) keeps its own id.
    """
    if osv_id.startswith("CVE-"):
        return osv_id
    for alias in aliases:
        if alias.startswith("CVE-"):
            return alias
    embedded = _CVE_RE.search(osv_id)
    if embedded and osv_id.endswith(embedded.group()):
        return embedded.group()
    upstream_cves = [u for u in upstream if isinstance(u, str) and u.startswith("CVE-")]
    return upstream_cves[0] if len(upstream_cves) == 1 else osv_id


def rfc3339(value: Any) -> str | None:
    """An OSV timestamp as RFC 3339 UTC with Z (microseconds kept when present), or None."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return format_utc(stamp)


def format_utc(stamp: datetime) -> str:
    """RFC 3339 in UTC with Z, as the wire carries timestamps (naive means UTC)."""
    naive_utc = stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp
    precision = "microseconds" if naive_utc.microsecond else "seconds"
    return naive_utc.isoformat(timespec=precision) + "Z"


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise OsvError(f"{key} is not a list")
    return value


def _summary(record: Mapping[str, Any]) -> str:
    summary = record.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    details = record.get("details")
    if isinstance(details, str):
        for line in details.strip().splitlines():
            if line.strip():
                return line.strip()
    return ""


def _summary_rating(summary: str) -> str | None:
    """The rating Red Hat style notices put first in their summary ("Important: openssl
    security update", as RHSA, ALSA and RLSA records spell it)."""
    rating, colon, _ = summary.partition(":")
    return rating.lower() if colon and rating in _SUMMARY_RATINGS else None


def _link(osv_id: str, references: list[Any]) -> str:
    for wanted in ("ADVISORY", "WEB"):
        for ref in references:
            if isinstance(ref, Mapping) and ref.get("type") == wanted:
                url = ref.get("url")
                if isinstance(url, str) and url:
                    return url
    return OSV_LINK + osv_id


def _ranges(raw: list[Any]) -> list[Range]:
    ranges: list[Range] = []
    for item in raw:
        if not isinstance(item, Mapping) or item.get("type") not in RANGE_TYPES:
            continue
        events = [_event(e) for e in item.get("events") or [] if isinstance(e, Mapping)]
        kept = [e for e in events if e is not None]
        if kept:
            ranges.append(Range(type=item["type"], events=kept))
    return ranges


def _event(raw: Mapping[str, Any]) -> dict[str, str] | None:
    present = [(k, raw[k]) for k in EVENT_KINDS if k in raw]
    if len(present) != 1 or not isinstance(present[0][1], str) or not present[0][1]:
        return None
    return {present[0][0]: present[0][1]}


def _vectors(severity: list[Any]) -> CvssVectors:
    found: dict[str, str] = {}
    for item in severity:
        if not isinstance(item, Mapping):
            continue
        slot = _CVSS_TYPES.get(item.get("type", ""))
        score = item.get("score")
        if slot and isinstance(score, str) and score.strip():
            found.setdefault(slot, score.strip())
    return CvssVectors(v3=found.get("v3"), v2=found.get("v2"), v4=found.get("v4"))


def _entry_hint(entry: Mapping[str, Any], severity: list[Any]) -> str | None:
    for key in ("ecosystem_specific", "database_specific"):
        hint = _hint(entry.get(key))
        if hint:
            return hint
    for item in severity:  # e.g. {"type": "Ubuntu", "score": "medium"}
        if isinstance(item, Mapping) and item.get("type") not in _CVSS_TYPES:
            score = item.get("score")
            if isinstance(score, str) and score.strip():
                return score.strip().lower()
    return None


def _hint(specific: Any) -> str | None:
    if not isinstance(specific, Mapping):
        return None
    for key in _HINT_KEYS:
        value = specific.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return None
