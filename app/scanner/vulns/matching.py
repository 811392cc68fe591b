"""Is an installed version affected by an advisory, and which version fixes it (OSV semantics)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from univers.versions import (
    AlpineLinuxVersion,
    DebianVersion,
    GolangVersion,
    MavenVersion,
    PypiVersion,
    RpmVersion,
    SemverVersion,
    Version,
)

# Keyed by the part of the OSV ecosystem name before the first ":" ("Debian:12" -> "Debian").
VERSION_CLASSES: dict[str, type[Version]] = {
    "Debian": DebianVersion,
    "Ubuntu": DebianVersion,
    "Alpine": AlpineLinuxVersion,
    "PyPI": PypiVersion,
    "npm": SemverVersion,
    # OSV's Go versions are SemVer without the "v" Go writes (accepted either way)
    "Go": GolangVersion,
    "Maven": MavenVersion,
    # RPM distributions: [epoch:]version-release in rpm's own order (rpmvercmp, ~ and ^)
    "AlmaLinux": RpmVersion,
    "Rocky Linux": RpmVersion,
    "Red Hat": RpmVersion,
    "SUSE": RpmVersion,
    "openSUSE": RpmVersion,
}
# Ecosystems of language packages; every other one is a distribution's.
LANGUAGE_FAMILIES = frozenset(
    {"PyPI", "npm", "Go", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist", "Hex", "Pub"}
)
# What a version is parsed by: its ecosystem's family, or SemVer in a SEMVER range of any
# ecosystem (a key no family can equal: families end before the first ":").
_SEMVER_RANGE = ":SEMVER"
_ORDERINGS: dict[str, type[Version]] = {**VERSION_CLASSES, _SEMVER_RANGE: SemverVersion}
_UNBOUNDED = "*"  # a `limit` of "*" means no limit


@dataclass(frozen=True, slots=True)
class Match:
    """An advisory affects the installed version.

    `fixed_by`: None when the advisory carries no fix information at all (only a list of
    affected versions); "" when it is known unfixed (no `fixed` version above the installed
    one); else the lowest `fixed` version above the installed one.
    """

    fixed_by: str | None


def ecosystem_family(ecosystem: str) -> str:
    return ecosystem.split(":", 1)[0]


def is_supported(ecosystem: str) -> bool:
    return ecosystem_family(ecosystem) in VERSION_CLASSES


def parse_version(ecosystem: str, text: str, range_type: str = "ECOSYSTEM") -> Version | None:
    """The version in the ecosystem's ordering (SemVer for SEMVER ranges), or None."""
    ordering = _SEMVER_RANGE if range_type == "SEMVER" else ecosystem_family(ecosystem)
    return _parse(ordering, text) if ordering in _ORDERINGS else None


@lru_cache(maxsize=65536)
def _parse(ordering: str, text: str) -> Version | None:
    try:
        return _ORDERINGS[ordering](text)
    except ValueError:  # univers' InvalidVersion, and stray parser errors
        return None


def affected_fix(advisory: Mapping[str, Any], installed_version: str) -> Match | None:
    """A Match when the installed version is affected; None when not, or not comparable.

    Affected means listed in `versions`, or inside a range: from an `introduced` ("0" = from
    the start) up to, excluding, the next `fixed`, or including the next `last_affected`;
    never at or above a `limit`. A range with an unparsable event is ignored.
    """
    ecosystem = advisory["ecosystem"]
    ranges: Sequence[Mapping[str, Any]] = advisory.get("ranges") or []
    listed = _listed(advisory, installed_version)
    if not listed and not _in_any_range(ecosystem, ranges, installed_version):
        return None
    if not ranges:
        return Match(fixed_by=None)
    return Match(fixed_by=_lowest_fix_above(ecosystem, ranges, installed_version))


def _listed(advisory: Mapping[str, Any], installed: str) -> bool:
    versions: Sequence[str] = advisory.get("versions") or []
    if installed in versions:
        return True
    ecosystem = advisory["ecosystem"]
    mine = parse_version(ecosystem, installed)
    return mine is not None and any(parse_version(ecosystem, v) == mine for v in versions)


def _in_any_range(ecosystem: str, ranges: Sequence[Mapping[str, Any]], installed: str) -> bool:
    for rng in ranges:
        mine = parse_version(ecosystem, installed, rng["type"])
        if mine is not None and _in_range(ecosystem, rng, mine):
            return True
    return False


def _in_range(ecosystem: str, rng: Mapping[str, Any], mine: Version) -> bool:
    from_start = False
    events: list[tuple[Version, str]] = []
    limits: list[Version] = []
    for event in rng["events"]:
        ((kind, text),) = event.items()
        if kind == "introduced" and text == "0":
            from_start = True
            continue
        if kind == "limit" and text == _UNBOUNDED:
            continue
        version = parse_version(ecosystem, text, rng["type"])
        if version is None:
            return False
        if kind == "limit":
            limits.append(version)
        else:
            events.append((version, kind))
    if limits and not any(mine < limit for limit in limits):
        return False
    affected = from_start
    # Only < and > here: univers' Alpine (Gentoo) versions define <= and >= by the raw string.
    # sorted() is stable, so events at the same version keep the record's order.
    for version, kind in sorted(events, key=lambda e: e[0]):
        reached = not mine < version
        if kind == "introduced" and reached:
            affected = True
        elif (kind == "fixed" and reached) or (kind == "last_affected" and mine > version):
            affected = False
    return affected


def _lowest_fix_above(ecosystem: str, ranges: Sequence[Mapping[str, Any]], installed: str) -> str:
    best: tuple[Version, str] | None = None
    for rng in ranges:
        mine = parse_version(ecosystem, installed, rng["type"])
        if mine is None:
            continue
        for event in rng["events"]:
            text = event.get("fixed")
            fix = None if text is None else parse_version(ecosystem, text, rng["type"])
            if text is None or fix is None or not fix > mine:
                continue
            # versions of different orderings (SEMVER and ECOSYSTEM ranges) do not compare
            if best is None or (type(fix) is type(best[0]) and fix < best[0]):
                best = (fix, text)
    return "" if best is None else best[1]
