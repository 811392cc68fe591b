"""Shaping stored images for each endpoint: snoozed vulnerabilities, descriptions, summaries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Doc = dict[str, Any]


def is_snoozed(vuln: Doc) -> bool:
    """Upstream's rule: suppressed, or in any state other than OBSERVED."""
    return bool(vuln.get("suppressed")) or vuln.get("state", "OBSERVED") != "OBSERVED"


def drop_snoozed(image: Doc) -> None:
    """Remove snoozed vulnerabilities and recount the image's distinct CVEs."""
    components = (image.get("scan") or {}).get("components") or []
    changed = False
    for component in components:
        vulns = component.get("vulns")
        if not vulns:
            continue
        # is_snoozed inlined: this runs for every vulnerability of every image read
        kept = [
            v for v in vulns if not v.get("suppressed") and v.get("state", "OBSERVED") == "OBSERVED"
        ]
        if len(kept) != len(vulns):
            component["vulns"] = kept
            changed = True
    if changed and "cves" in image:
        image["cves"] = len({v.get("cve") for c in components for v in c.get("vulns") or []})


def strip_descriptions(image: Doc) -> None:
    for component in (image.get("scan") or {}).get("components") or []:
        for vuln in component.get("vulns") or []:
            vuln["summary"] = ""


def blank_datasources(image: Doc) -> None:
    """Vulnerability `datasource` is internal upstream and never shown; it is not kept either."""
    for component in (image.get("scan") or {}).get("components") or []:
        for vuln in component.get("vulns") or []:
            vuln["datasource"] = ""


def finish(image: Doc, priority: Callable[[float], int]) -> Doc:
    """What every full-image answer gets: the live priority, verifier names."""
    image["priority"] = str(priority(float(image.get("riskScore") or 0.0)))
    verification = image.get("signatureVerificationData") or {}
    for result in verification.get("results") or []:
        # No signature integrations are kept here, so no verifier id has a name.
        result["verifierName"] = ""
    return image


def list_image(doc: Doc, priority: Callable[[float], int]) -> Doc:
    """A ListImage summary from a document found with `storage.images.LIST_FIELDS`."""
    summary: Doc = {"id": doc["_id"], "name": doc.get("fullName") or ""}
    for key in ("components", "cves", "fixableCves"):
        if key in doc:
            summary[key] = doc[key]
    summary["created"] = doc.get("created")
    summary["lastUpdated"] = doc.get("lastUpdated")
    summary["priority"] = str(priority(float(doc.get("riskScore") or 0.0)))
    if "severities" in doc:  # found with SUMMARY_FIELDS
        summary["scanSummary"] = {
            "operatingSystem": doc.get("operatingSystem") or "",
            "scanTime": doc.get("scanTime"),
            "topCvss": float(doc.get("topCvss") or 0.0),
            "cvesBySeverity": doc["severities"],
        }
    return summary
