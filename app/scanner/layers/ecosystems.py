"""Names for an operating system: the upstream label, and the OSV ecosystems to query."""

from __future__ import annotations

import re
from functools import lru_cache

from app.scanner.model import OperatingSystem, PackageKind

# distributions whose advisories follow the major release only
_MAJOR_ONLY = frozenset({"rhel", "centos", "rocky", "almalinux", "ol", "amzn", "fedora"})
UNKNOWN_OS = "unknown"


def operating_system_label(os: OperatingSystem | None) -> str:
    """`debian:12`, `ubuntu:22.04`, `alpine:3.19`, `rhel:9`, `centos:7`; `unknown` without one.

    Debian testing and sid carry no VERSION_ID: both are `debian:unstable`. Alpine's edge is
    `alpine:edge`. Other distributions are `ID:VERSION_ID`, or just `ID` without a version.
    """
    if os is None or not os.id:
        return UNKNOWN_OS
    distro, version = os.id.lower(), os.version_id
    if distro == "alpine":
        return f"alpine:{_alpine_branch(os) or 'edge'}"
    if distro == "debian" and not version:
        return "debian:unstable"
    if distro in _MAJOR_ONLY:
        version = version.split(".", 1)[0]
    return f"{distro}:{version}" if version else distro


def osv_ecosystem(os: OperatingSystem | None, kind: PackageKind) -> list[str]:
    """OSV ecosystem names to look a package of `kind` up in; [] when none applies.

    dpkg/apk packages need a known distribution release: Debian testing/sid, Alpine edge and
    unknown operating systems get [] (the caller says so).
    """
    if kind == "python":
        return ["PyPI"]
    if kind == "npm":
        return ["npm"]
    if kind == "go":
        return ["Go"]  # modules by path, the toolchain as `stdlib`
    if kind == "java":
        return ["Maven"]  # `groupId:artifactId`
    if os is None:
        return []
    distro, version = os.id.lower(), os.version_id
    if kind == "dpkg" and distro == "debian" and version:
        return [f"Debian:{version.split('.', 1)[0]}"]
    if kind == "dpkg" and distro == "ubuntu" and version:
        # OSV files LTS releases as "Ubuntu:22.04:LTS"; older records use the bare release
        return (
            [f"Ubuntu:{version}", f"Ubuntu:{version}:LTS"]
            if _ubuntu_lts(os)
            else [f"Ubuntu:{version}"]
        )
    if kind == "apk" and distro == "alpine":
        branch = _alpine_branch(os)
        return [f"Alpine:v{branch}"] if branch else []
    if kind == "apk" and distro == "wolfi":
        return ["Wolfi"]
    if kind == "apk" and distro == "chainguard":
        return ["Chainguard"]
    if kind == "rpm":
        return _rpm_ecosystems(distro, version)
    return []


def _rpm_ecosystems(distro: str, version: str) -> list[str]:
    """OSV's names for RPM distributions. A `*` stands for any text: Red Hat files advisories
    per repository (`Red Hat:enterprise_linux:9::baseos`, `…::appstream`) and SUSE per product
    and module (`SUSE:Linux Enterprise Module for Basesystem 15 SP5`); see expand_ecosystems.
    CentOS, Fedora, Oracle Linux and Amazon Linux have no OSV ecosystem: []."""
    if distro == "opensuse-tumbleweed":
        return ["openSUSE:Tumbleweed"]  # rolling: its VERSION_ID is a snapshot's date
    major, _, minor = version.partition(".")
    if not major:
        return []
    if distro == "almalinux":
        return [f"AlmaLinux:{major}"]
    if distro == "rocky":
        return [f"Rocky Linux:{major}"]
    if distro == "rhel":
        return [f"Red Hat:enterprise_linux:{major}", f"Red Hat:enterprise_linux:{major}::*"]
    if distro in ("sles", "sled"):
        service_pack = f" SP{minor}" if minor and minor != "0" else ""
        return [f"SUSE:Linux Enterprise * {major}{service_pack}"]
    if distro == "opensuse-leap":
        return [f"openSUSE:Leap {version}"]
    if distro == "opensuse-leap-micro":
        return [f"openSUSE:Leap Micro {version}"]
    return []


def expand_ecosystems(names: tuple[str, ...], available: frozenset[str]) -> tuple[str, ...]:
    """`names` with each one holding a `*` replaced by the `available` names it matches
    (sorted); names without one are kept as they are."""
    if not any("*" in name for name in names):
        return names
    return _expand(names, available)


@lru_cache(maxsize=256)
def _expand(names: tuple[str, ...], available: frozenset[str]) -> tuple[str, ...]:
    expanded: list[str] = []
    for name in names:
        if "*" not in name:
            expanded.append(name)
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in name.split("*")))
        expanded += sorted(candidate for candidate in available if pattern.fullmatch(candidate))
    return tuple(dict.fromkeys(expanded))


def _alpine_branch(os: OperatingSystem) -> str:
    """`3.19` for 3.19.1; "" for edge (its VERSION_ID is the next release's alpha)."""
    parts = os.version_id.split(".")
    if (
        "edge" in os.pretty_name.lower()
        or len(parts) < 2
        or not all(p.isdigit() for p in parts[:2])
    ):
        return ""
    return f"{parts[0]}.{parts[1]}"


def _ubuntu_lts(os: OperatingSystem) -> bool:
    """LTS when os-release says so, or by the rule: April releases of even years."""
    if "LTS" in os.pretty_name:
        return True
    year, _, month = os.version_id.partition(".")
    return year.isdigit() and int(year) % 2 == 0 and month == "04"
