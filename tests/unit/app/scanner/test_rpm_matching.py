"""RPM packages against OSV: the ecosystems per distribution, Red Hat's and SUSE's names
expanded from the feed, and version order as rpm itself orders (rpm's `rpm.vercmp` from
Debian's rpm 4.18 is the oracle)."""

from __future__ import annotations

import random
import subprocess

import pytest

from app.scanner.layers import operating_system_label, osv_ecosystem
from app.scanner.layers.ecosystems import expand_ecosystems
from app.scanner.model import OperatingSystem
from app.scanner.vulns.matching import affected_fix, is_supported, parse_version
from app.services.scan_results import Feed, PackageKey, feed_notes

RHEL_9 = OperatingSystem("rhel", "9.3", "Red Hat Enterprise Linux 9.3 (Plow)")
ROCKY_9 = OperatingSystem("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)")
ALMA_8 = OperatingSystem("almalinux", "8.9", "AlmaLinux 8.9 (Midnight Oncilla)")
SLES_15_5 = OperatingSystem("sles", "15.5", "SUSE Linux Enterprise Server 15 SP5")
SLES_15 = OperatingSystem("sles", "15", "SUSE Linux Enterprise Server 15")
LEAP = OperatingSystem("opensuse-leap", "15.5", "openSUSE Leap 15.5")
TUMBLEWEED = OperatingSystem("opensuse-tumbleweed", "20240301", "openSUSE Tumbleweed")


@pytest.mark.parametrize(
    ("os", "ecosystems"),
    [
        (ROCKY_9, ["Rocky Linux:9"]),
        (ALMA_8, ["AlmaLinux:8"]),
        (RHEL_9, ["Red Hat:enterprise_linux:9", "Red Hat:enterprise_linux:9::*"]),
        (SLES_15_5, ["SUSE:Linux Enterprise * 15 SP5"]),
        (SLES_15, ["SUSE:Linux Enterprise * 15"]),
        (LEAP, ["openSUSE:Leap 15.5"]),
        (TUMBLEWEED, ["openSUSE:Tumbleweed"]),
        # OSV publishes no advisories for these: the packages are listed, not matched
        (OperatingSystem("centos", "7"), []),
        (OperatingSystem("fedora", "40"), []),
        (OperatingSystem("ol", "9.3"), []),
        (OperatingSystem("amzn", "2023"), []),
        (OperatingSystem("rhel", ""), []),
        (None, []),
    ],
)
def test_rpm_ecosystems(os: OperatingSystem | None, ecosystems: list[str]) -> None:
    assert osv_ecosystem(os, "rpm") == ecosystems


def test_labels_of_rpm_distributions() -> None:
    assert operating_system_label(ROCKY_9) == "rocky:9"
    assert operating_system_label(SLES_15_5) == "sles:15.5"
    assert operating_system_label(LEAP) == "opensuse-leap:15.5"


FEED_ECOSYSTEMS = frozenset(
    {
        "Red Hat:enterprise_linux:9::appstream",
        "Red Hat:enterprise_linux:9::baseos",
        "Red Hat:enterprise_linux:8::baseos",
        "Red Hat:rhel_eus:9.2::baseos",
        "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
        "SUSE:Linux Enterprise Server 15 SP5",
        "SUSE:Linux Enterprise Server 15 SP4",
        "SUSE:Linux Enterprise Micro 5.5",
        "Rocky Linux:9",
    }
)


def test_red_hat_and_suse_names_expand_to_what_the_feed_holds() -> None:
    rhel = tuple(osv_ecosystem(RHEL_9, "rpm"))
    assert expand_ecosystems(rhel, FEED_ECOSYSTEMS) == (
        "Red Hat:enterprise_linux:9",
        "Red Hat:enterprise_linux:9::appstream",
        "Red Hat:enterprise_linux:9::baseos",
    )
    sles = tuple(osv_ecosystem(SLES_15_5, "rpm"))
    assert expand_ecosystems(sles, FEED_ECOSYSTEMS) == (
        "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
        "SUSE:Linux Enterprise Server 15 SP5",
    )
    assert expand_ecosystems(("Rocky Linux:9",), FEED_ECOSYSTEMS) == ("Rocky Linux:9",)
    assert expand_ecosystems(sles, frozenset()) == ()


def test_a_rhel_image_has_os_advisories_when_the_feed_holds_red_hat_streams() -> None:
    key = PackageKey("rpm", tuple(osv_ecosystem(RHEL_9, "rpm")), "openssl", "1:3.0.7-16.el9")
    assert feed_notes([key], Feed("v1", FEED_ECOSYSTEMS)) == []
    assert feed_notes([key], Feed("v1", frozenset({"Rocky Linux:9"}))) == ["OS_CVES_UNAVAILABLE"]


@pytest.mark.parametrize(
    "ecosystem",
    ["AlmaLinux:9", "Rocky Linux:9", "Red Hat:enterprise_linux:9::baseos", "SUSE:x", "openSUSE:y"],
)
def test_rpm_ecosystems_are_imported(ecosystem: str) -> None:
    assert is_supported(ecosystem)


def advisory(fixed: str) -> dict[str, object]:
    return {
        "ecosystem": "Rocky Linux:9",
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
    }


def test_epochs_decide_first() -> None:
    match = affected_fix(advisory("1:3.0.7-18.el9_2"), "1:3.0.7-16.el9")
    assert match is not None
    assert match.fixed_by == "1:3.0.7-18.el9_2"
    assert affected_fix(advisory("1:3.0.7-16.el9"), "1:3.0.7-16.el9") is None
    # no epoch is epoch 0, as rpm compares: an epoch-1 package is past a fix without one
    assert affected_fix(advisory("3.0.7-18.el9_2"), "1:3.0.7-16.el9") is None
    assert affected_fix(advisory("0:3.0.7-18.el9_2"), "3.0.7-16.el9") is not None


# pairs where an ordering differs from a plain numeric/alphabetic one
_KNOWN = [
    ("1.0~rc1", "1.0"),
    ("1.0~rc1", "1.0~rc2"),
    ("1.0~~", "1.0~"),
    ("1.0^git1", "1.0"),
    ("1.0^git1", "1.0.1"),
    ("1.0^", "1.0~"),
    ("1:1.0", "2.0"),
    ("0:1.0-1", "1.0-1"),
    ("1.0-1.el9", "1.0-1.el9_1"),
    ("1.001", "1.1"),
    ("1.0a", "1.0"),
    ("5.5p1", "5.5.1"),
    ("1.010", "1.9"),
    ("2.0.1", "2.0.1a"),
    ("1..0", "1.0"),
    ("1.0_1", "1.0.1"),
    ("a", "1"),
    ("1.0-1", "1.0"),
    ("0.0.99.5^20240101git3d2a-1.el9", "0.0.99.5-1.el9"),
]


def _random_versions(count: int) -> list[tuple[str, str]]:
    rng = random.Random("rpmvercmp")
    pieces = ["0", "1", "2", "9", "10", "010", "a", "b", "rc", "el9", "el9_2", "git", "p"]
    separators = [".", ".", "~", "^", "_", "+"]

    def one() -> str:
        text = "".join(
            rng.choice(pieces) if i % 2 == 0 else rng.choice(separators)
            for i in range(rng.randint(1, 6))
        )
        if rng.random() < 0.3:
            text += "-" + rng.choice(["1", "1.el9", "2.el9_1", "10"])
        return f"{rng.randint(0, 2)}:{text}" if rng.random() < 0.2 else text

    return [(one(), one()) for _ in range(count)]


def rpm_vercmp(pairs: list[tuple[str, str]]) -> list[int]:
    """rpm's own comparison of each pair (-1, 0, 1), one rpm process for all of them."""
    script = "".join(f'print(rpm.vercmp("{a}", "{b}") .. "\\n")' for a, b in pairs)
    done = subprocess.run(
        ["rpm", "--eval", f"%{{lua:{script}}}"], check=True, capture_output=True, text=True
    )
    return [int(line) for line in done.stdout.split()]


def test_version_order_is_rpms_own() -> None:
    pairs = _KNOWN + _random_versions(1500)
    expected = rpm_vercmp(pairs)
    assert len(expected) == len(pairs)
    wrong = []
    for (a, b), want in zip(pairs, expected, strict=True):
        mine, theirs = parse_version("Red Hat:x", a), parse_version("Red Hat:x", b)
        assert mine is not None
        assert theirs is not None
        got = -1 if mine < theirs else 1 if mine > theirs else 0
        if got != want:
            wrong.append((a, b, want, got))
    assert wrong == []
    assert {-1, 0, 1} <= set(expected)
