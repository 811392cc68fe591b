"""Installed packages against stored advisories: what to look up, and each package's vulns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.scanner.vulns.embedded import to_embedded_vulnerability
from app.scanner.vulns.matching import affected_fix, parse_version
from app.scanner.vulns.osv import package_key

AdvisoryKey = tuple[str, str]  # (ecosystem, package as package_key files it)
Advisories = Mapping[AdvisoryKey, Sequence[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class MatchInput:
    """A package to match: the OSV ecosystems to look in, its advisory name and version."""

    ecosystems: tuple[str, ...]
    name: str  # dpkg Source / apk origin; the package name for language packages
    version: str


def unscored_cves(advisories: Iterable[Mapping[str, Any]]) -> set[str]:
    """The CVEs of advisories that carry no CVSS vector of their own."""
    return {
        a["cve"]
        for a in advisories
        if a.get("cve") and not any((a.get("cvss_vectors") or {}).values())
    }


def lookup_keys(packages: Iterable[MatchInput]) -> tuple[list[str], list[str]]:
    """The ecosystems and package names to fetch advisories for (sorted, distinct)."""
    ecosystems: set[str] = set()
    names: set[str] = set()
    for package in packages:
        for ecosystem in package.ecosystems:
            ecosystems.add(ecosystem)
            names.add(package_key(ecosystem, package.name))
    return sorted(ecosystems), sorted(names)


def index_advisories(advisories: Iterable[Mapping[str, Any]]) -> dict[AdvisoryKey, list[Any]]:
    index: dict[AdvisoryKey, list[Any]] = {}
    for advisory in advisories:
        index.setdefault((advisory["ecosystem"], advisory["package"]), []).append(advisory)
    return index


def match_packages(
    packages: Sequence[MatchInput],
    advisories: Advisories,
    *,
    now: datetime,
    borrowed: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[list[dict[str, Any]]]:
    """Each package's EmbeddedVulnerabilities, in input order, sorted by CVE.

    One vulnerability per CVE: several advisories naming the same CVE (a DSA and the Debian
    CVE record, the plain and LTS Ubuntu feeds) become the one with the highest CVSS, with
    the lowest fix any of them gives. `borrowed`: CVSS vectors by CVE for advisories that
    have none of their own.
    """
    borrowed = borrowed or {}
    results: list[list[dict[str, Any]]] = []
    for package in packages:
        by_cve: dict[str, dict[str, Any]] = {}
        for ecosystem in package.ecosystems:
            for advisory in advisories.get((ecosystem, package_key(ecosystem, package.name)), ()):
                match = affected_fix(advisory, package.version)
                if match is None:
                    continue
                vuln = to_embedded_vulnerability(
                    advisory, match, now, borrowed.get(advisory.get("cve") or "")
                )
                earlier = by_cve.get(vuln["cve"])
                by_cve[vuln["cve"]] = vuln if earlier is None else _merge(earlier, vuln, ecosystem)
        results.append([by_cve[cve] for cve in sorted(by_cve)])
    return results


def _merge(a: dict[str, Any], b: dict[str, Any], ecosystem: str) -> dict[str, Any]:
    kept = dict(b if b["cvss"] > a["cvss"] else a)
    fixed = _lowest_fix(a.get("fixedBy"), b.get("fixedBy"), ecosystem)
    if fixed is None:
        kept.pop("fixedBy", None)
    else:
        kept["fixedBy"] = fixed
        if fixed and not kept.get("fixAvailableTimestamp"):
            kept["fixAvailableTimestamp"] = a.get("fixAvailableTimestamp") or b.get(
                "fixAvailableTimestamp"
            )
    return kept


def _lowest_fix(a: str | None, b: str | None, ecosystem: str) -> str | None:
    """A version beats "" (known unfixed), which beats None (no fix information)."""
    if not a or not b:
        return a or b or ("" if "" in (a, b) else None)
    va, vb = parse_version(ecosystem, a), parse_version(ecosystem, b)
    if va is None or vb is None:
        return a
    return b if vb < va else a
