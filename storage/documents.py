"""Stored image documents: derived counts, scan hash, search copies and upstream merge rules."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from storage.query import build_search_doc
from storage.query.enums import VULNERABILITY_SEVERITY
from storage.query.search_keys import LAYOUT, LAYOUT_VERSION
from storage.query.sort_keys import SORT, build_sort_doc

# Fields kept from the stored document when an incoming scan is older than the stored one.
# `_scanner` is what our scanner recorded to re-match the scan without the registry.
SCAN_DERIVED = ("components", "cves", "fixableCves", "topCvss", "riskScore", "_scanner")
# Internal fields that never leave storage.
INTERNAL = ("_search", SORT, LAYOUT, "_rev", "_scanner", "_severities")
# `_severities`: the image's distinct CVEs counted by their highest severity, for list pages.
SEVERITIES = "_severities"
# Its keys, by VulnerabilitySeverity number.
SEVERITY_KEYS = {0: "unknown", 1: "low", 2: "moderate", 3: "important", 4: "critical"}


def fill_scan_stats(doc: dict[str, Any]) -> None:
    """Set the image and component summary fields from the scan (upstream FillScanStats)."""
    scan = doc.get("scan")
    if not scan:
        return
    components = scan.get("components") or []
    cves: set[str] = set()
    fixable: set[str] = set()
    saw_fixed_by = False
    top: float | None = None
    for component in components:
        vulns = component.get("vulns") or []
        component_top: float | None = None
        for vuln in vulns:
            cve = vuln.get("cve", "")
            cves.add(cve)
            if "fixedBy" in vuln:
                saw_fixed_by = True
                if vuln["fixedBy"]:
                    fixable.add(cve)
            cvss = float(vuln.get("cvss") or 0.0)
            component_top = cvss if component_top is None else max(component_top, cvss)
        if component_top is None:
            component.pop("topCvss", None)
        else:
            component["topCvss"] = component_top
            top = component_top if top is None else max(top, component_top)
    doc["components"] = len(components)
    doc["cves"] = len(cves)
    if cves and top is not None:
        doc["topCvss"] = top
    else:
        doc.pop("topCvss", None)
    if not cves or saw_fixed_by:
        doc["fixableCves"] = len(fixable)
    else:
        doc.pop("fixableCves", None)


def scan_hash(scan: Mapping[str, Any] | None) -> str | None:
    """A stable uint64 (as a string) that changes whenever the scan content changes."""
    if not scan:
        return None
    content = {k: v for k, v in scan.items() if k != "hash"}
    digest = hashlib.blake2b(
        orjson.dumps(content, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z), digest_size=8
    ).digest()
    return str(int.from_bytes(digest, "big"))


def to_stored(image: Mapping[str, Any], *, last_updated: datetime) -> dict[str, Any]:
    """The document to store for a canonical wire-shaped image (`id` becomes `_id`)."""
    doc = dict(image)
    doc["_id"] = doc.pop("id")
    doc.pop("priority", None)  # a live rank, never stored
    doc["lastUpdated"] = last_updated
    fill_scan_stats(doc)
    if doc.get("scan"):
        doc["scan"] = dict(doc["scan"])
        doc["scan"]["hash"] = scan_hash(doc["scan"])
    return derive(doc)


def created_at(doc: Mapping[str, Any]) -> datetime | None:
    metadata = doc.get("metadata") or {}
    return (metadata.get("v1") or {}).get("created")


def scanned_at(doc: Mapping[str, Any]) -> datetime | None:
    return (doc.get("scan") or {}).get("scanTime")


def _aware(value: datetime) -> datetime:
    # Drivers configured without tz_aware hand back naive UTC datetimes.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _older(new: datetime | None, old: datetime | None) -> bool:
    """Whether the new timestamp is before the stored one; a missing one counts as oldest."""
    if old is None:
        return False
    return new is None or _aware(new) < _aware(old)


def merge(new: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """Apply upstream's upsert rules to a new document against the stored one.

    Metadata is replaced only if the new image was not created earlier; the scan (with
    the risk score and counts derived from it) only if the new scan is not older.
    Names seen before are kept after the new ones.
    """
    merged = dict(new)
    if old.get("metadata") and (
        not new.get("metadata") or _older(created_at(new), created_at(old))
    ):
        merged["metadata"] = old["metadata"]
    if old.get("scan") and (not new.get("scan") or _older(scanned_at(new), scanned_at(old))):
        merged["scan"] = old["scan"]
        for key in SCAN_DERIVED:
            if key in old:
                merged[key] = old[key]
            else:
                merged.pop(key, None)
    merged["names"] = merge_names(new.get("names") or [], old.get("names") or [])
    return derive(merged)


def derive(doc: dict[str, Any]) -> dict[str, Any]:
    """(Re)build what is derived from the image to search and sort it, in the current layout
    (mutates and returns the document)."""
    doc["_search"] = build_search_doc(doc)
    doc[SEVERITIES] = severity_counts(doc)
    doc[SORT] = build_sort_doc(doc)
    doc[LAYOUT] = LAYOUT_VERSION
    return doc


def severity_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    """How many distinct CVEs of the image's scan have each severity (a CVE listed under
    several components counts once, at its highest)."""
    highest: dict[str, int] = {}
    for component in (doc.get("scan") or {}).get("components") or []:
        for vuln in component.get("vulns") or []:
            number = VULNERABILITY_SEVERITY.number(vuln.get("severity")) or 0
            cve = vuln.get("cve", "")
            if number > highest.get(cve, -1):
                highest[cve] = number
    counts = dict.fromkeys(SEVERITY_KEYS.values(), 0)
    for number in highest.values():
        counts[SEVERITY_KEYS[number]] += 1
    return counts


def merge_names(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {n.get("fullName") for n in new}
    return new + [n for n in old if n.get("fullName") not in seen]


def to_wire(doc: dict[str, Any]) -> dict[str, Any]:
    """The wire-shaped image for a stored document (mutates and returns it)."""
    doc["id"] = doc.pop("_id")
    for key in INTERNAL:
        doc.pop(key, None)
    return doc
