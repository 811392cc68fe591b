"""Scan results in upstream's image shape, and the record kept to re-match them later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from app.scanner.layers.ecosystems import expand_ecosystems
from app.scanner.metadata import history_index_of_layers, image_metadata
from app.scanner.model import OS_KINDS, InstalledPackage, Inventory, ResolvedImage
from app.scanner.reference import ImageReference

Doc = dict[str, Any]


def scanner_version() -> str:
    try:
        return f"image-service {version('image-service')}"
    except PackageNotFoundError:
        return "image-service"


@dataclass(frozen=True, slots=True)
class PackageKey:
    """What a component is matched by: ecosystems to look in, advisory name, version."""

    kind: str
    ecosystems: tuple[str, ...]
    name: str
    version: str

    def to_record(self) -> Doc:
        return {
            "kind": self.kind,
            "ecosystems": list(self.ecosystems),
            "name": self.name,
            "version": self.version,
        }

    @classmethod
    def from_record(cls, record: Doc) -> PackageKey:
        return cls(
            kind=str(record.get("kind") or ""),
            ecosystems=tuple(record.get("ecosystems") or ()),
            name=str(record.get("name") or ""),
            version=str(record.get("version") or ""),
        )


@dataclass(frozen=True, slots=True)
class ComponentMatch:
    """The vulnerabilities (wire-shaped) found for one component, and its fixing version."""

    vulns: list[Doc] = field(default_factory=list)
    fixed_by: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    """The vulnerability feed a scan was matched against."""

    version: str
    ecosystems: frozenset[str]

    def expand(self, ecosystems: tuple[str, ...]) -> tuple[str, ...]:
        """A component's ecosystems with each `*` name replaced by those the feed holds."""
        return expand_ecosystems(ecosystems, self.ecosystems)

    @property
    def data_source(self) -> Doc:
        name = f"OSV feed {self.version}" if self.version else "no vulnerability feed imported"
        return {"id": f"osv:{self.version}", "name": name, "mirror": ""}


def image_name(reference: ImageReference) -> Doc:
    return {
        "registry": reference.registry,
        "remote": reference.remote,
        "tag": reference.tag,
        "fullName": reference.full_name,
    }


_FEED_NOTES = ("OS_CVES_UNAVAILABLE", "LANGUAGE_CVES_UNAVAILABLE")


def feed_notes(keys: Sequence[PackageKey], feed: Feed) -> list[str]:
    """Notes for package kinds the feed holds no advisories for."""
    notes: list[str] = []
    os_keys = [k for k in keys if k.kind in OS_KINDS]
    if os_keys and not any(
        e in feed.ecosystems for k in os_keys for e in feed.expand(k.ecosystems)
    ):
        notes.append("OS_CVES_UNAVAILABLE")
    language = [k for k in keys if k.kind not in OS_KINDS]
    if language and not any(e in feed.ecosystems for k in language for e in k.ecosystems):
        notes.append("LANGUAGE_CVES_UNAVAILABLE")
    return notes


def scan_notes(
    inventory: Inventory,
    keys: Sequence[PackageKey],
    feed: Feed,
    *,
    partial: bool,
    os_packages_readable: bool,
) -> list[str]:
    """Upstream's scan notes: what the result cannot vouch for."""
    notes = ["OS_UNAVAILABLE"] if inventory.os is None else []
    notes += feed_notes(keys, feed)
    # a distribution whose packages are not matched, or no OS package listed at all (the
    # database is gone, damaged or empty; such an image would look clean): no verdict
    listed = any(p.kind in OS_KINDS for p in inventory.packages)
    no_verdict = not os_packages_readable or not listed
    if inventory.os is not None and no_verdict and "OS_CVES_UNAVAILABLE" not in notes:
        notes.append("OS_CVES_UNAVAILABLE")
    if partial or inventory.unreadable:
        notes.append("PARTIAL_SCAN_DATA")
    return notes


def component(package: InstalledPackage, match: ComponentMatch, *, layer_index: int) -> Doc:
    result: Doc = {
        "name": package.name,
        "version": package.version,
        "source": package.source,
        "location": package.location,
        "layerIndex": layer_index,
        "vulns": match.vulns,
    }
    if package.arch:
        result["architecture"] = package.arch
    if package.license:
        result["license"] = {"name": package.license, "type": "", "url": ""}
    if match.fixed_by:
        result["fixedBy"] = match.fixed_by
    return result


def scanned_image(
    reference: ImageReference,
    resolved: ResolvedImage,
    inventory: Inventory,
    keys: Sequence[PackageKey],
    matches: Sequence[ComponentMatch],
    *,
    operating_system: str,
    os_packages_readable: bool,
    feed: Feed,
    now: datetime,
    partial: bool,
) -> tuple[Doc, Doc]:
    """(wire-shaped image, scanner record) for a fresh analysis."""
    history_index = history_index_of_layers(resolved.config_json, len(resolved.layers))
    components = [
        component(p, m, layer_index=history_index[p.layer] if p.layer < len(history_index) else 0)
        for p, m in zip(inventory.packages, matches, strict=True)
    ]
    image: Doc = {
        "id": reference.digest or resolved.manifest_digest,
        "name": image_name(reference),
        "names": [image_name(reference)],
        "metadata": image_metadata(resolved),
        "scan": {
            "scannerVersion": scanner_version(),
            "scanTime": now.isoformat(),
            "operatingSystem": operating_system,
            "components": components,
            "dataSource": feed.data_source,
            "notes": scan_notes(
                inventory,
                keys,
                feed,
                partial=partial,
                os_packages_readable=os_packages_readable,
            ),
        },
        "isClusterLocal": False,
        "notes": [],
    }
    record = {"feed": feed.version, "packages": [k.to_record() for k in keys]}
    return image, record


def rematched_scan(
    scan: Doc,
    keys: Sequence[PackageKey],
    matches: Sequence[ComponentMatch],
    *,
    feed: Feed,
    now: datetime,
) -> Doc:
    """A stored scan with every component's vulnerabilities replaced by a new match."""
    components = []
    for stored, match in zip(scan.get("components") or [], matches, strict=True):
        updated = dict(stored)
        updated["vulns"] = _keep_stamps(stored.get("vulns") or [], match.vulns)
        updated.pop("topCvss", None)
        if match.fixed_by:
            updated["fixedBy"] = match.fixed_by
        else:
            updated.pop("fixedBy", None)
        components.append(updated)
    result = dict(scan)
    result["components"] = components
    result["scanTime"] = now
    result["dataSource"] = feed.data_source
    old = scan.get("notes") or []
    notes = [n for n in old if n not in _FEED_NOTES] + feed_notes(keys, feed)
    has_os_packages = any(k.kind in OS_KINDS for k in keys)
    if "OS_CVES_UNAVAILABLE" in old and not has_os_packages and "OS_CVES_UNAVAILABLE" not in notes:
        notes.append("OS_CVES_UNAVAILABLE")  # not the feed's doing: the packages were unreadable
    result["notes"] = notes
    return result


def _keep_stamps(before: Sequence[Doc], after: list[Doc]) -> list[Doc]:
    """New matches keep what the image's earlier scan recorded of the same CVE: when the image
    was first seen with it, and since when a fix is known (while one still is)."""
    earlier = {v.get("cve"): v for v in before}
    kept = []
    for vuln in after:
        old = earlier.get(vuln["cve"])
        if old is not None:
            vuln = dict(vuln)
            if old.get("firstImageOccurrence"):
                vuln["firstImageOccurrence"] = old["firstImageOccurrence"]
            if vuln.get("fixAvailableTimestamp") and old.get("fixAvailableTimestamp"):
                vuln["fixAvailableTimestamp"] = old["fixAvailableTimestamp"]
        kept.append(vuln)
    return kept
