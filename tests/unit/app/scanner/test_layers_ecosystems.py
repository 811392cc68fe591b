"""Operating system labels in upstream spelling, and the OSV ecosystems per package kind."""

from __future__ import annotations

import pytest

from app.scanner.layers import operating_system_label, osv_ecosystem
from app.scanner.model import OperatingSystem

DEBIAN_12 = OperatingSystem("debian", "12", "Debian GNU/Linux 12 (bookworm)", "bookworm")
SID = OperatingSystem("debian", "", "Debian GNU/Linux trixie/sid", "trixie")
UBUNTU_2204 = OperatingSystem("ubuntu", "22.04", "Ubuntu 22.04.3 LTS", "jammy")
UBUNTU_2310 = OperatingSystem("ubuntu", "23.10", "Ubuntu 23.10", "mantic")
ALPINE = OperatingSystem("alpine", "3.19.1", "Alpine Linux v3.19")
ALPINE_EDGE = OperatingSystem("alpine", "3.20.0_alpha20240329", "Alpine Linux edge")
RHEL = OperatingSystem("rhel", "9.3", "Red Hat Enterprise Linux 9.3 (Plow)")
CENTOS = OperatingSystem("centos", "7", "CentOS Linux 7 (Core)")
WOLFI = OperatingSystem("wolfi", "20230201", "Wolfi")
ARCH = OperatingSystem("arch", "", "Arch Linux")


@pytest.mark.parametrize(
    ("os", "label"),
    [
        (DEBIAN_12, "debian:12"),
        (SID, "debian:unstable"),
        (UBUNTU_2204, "ubuntu:22.04"),
        (ALPINE, "alpine:3.19"),
        (ALPINE_EDGE, "alpine:edge"),
        (RHEL, "rhel:9"),
        (CENTOS, "centos:7"),
        (WOLFI, "wolfi:20230201"),
        (ARCH, "arch"),
        (None, "unknown"),
    ],
)
def test_operating_system_label(os: OperatingSystem | None, label: str) -> None:
    assert operating_system_label(os) == label


@pytest.mark.parametrize(
    ("os", "kind", "ecosystems"),
    [
        (DEBIAN_12, "dpkg", ["Debian:12"]),
        (UBUNTU_2204, "dpkg", ["Ubuntu:22.04", "Ubuntu:22.04:LTS"]),
        # LTS by the release rule when PRETTY_NAME does not say
        (OperatingSystem("ubuntu", "20.04"), "dpkg", ["Ubuntu:20.04", "Ubuntu:20.04:LTS"]),
        (UBUNTU_2310, "dpkg", ["Ubuntu:23.10"]),
        (ALPINE, "apk", ["Alpine:v3.19"]),
        (WOLFI, "apk", ["Wolfi"]),
        (DEBIAN_12, "python", ["PyPI"]),
        (None, "python", ["PyPI"]),
        (None, "npm", ["npm"]),
        (None, "dpkg", []),
        (None, "apk", []),
        (SID, "dpkg", []),
        (ALPINE_EDGE, "apk", []),
        (ALPINE, "dpkg", []),
        (RHEL, "dpkg", []),
    ],
)
def test_osv_ecosystem(os: OperatingSystem | None, kind: str, ecosystems: list[str]) -> None:
    assert osv_ecosystem(os, kind) == ecosystems  # type: ignore[arg-type]
