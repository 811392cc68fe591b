"""Go and Maven advisories: OSV's version orderings for both, and the ecosystems a Go or Java
package is looked up in."""

from __future__ import annotations

from typing import Any

import pytest

from app.scanner.layers import osv_ecosystem
from app.scanner.model import OperatingSystem
from app.scanner.vulns.matching import affected_fix, is_supported
from app.scanner.vulns.osv import parse_record


def advisory(ecosystem: str, name: str, range_type: str, *events: dict[str, str]) -> Any:
    record = {
        "id": "GO-2024-0001",
        "modified": "2024-05-01T10:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": range_type, "events": list(events)}],
            }
        ],
    }
    (only,) = parse_record(record)
    return only


def fix(installed: str, found: Any) -> str | None | bool:
    match = affected_fix(found, installed)
    return False if match is None else match.fixed_by


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ("1.2.3", "1.2.4"),
        ("v1.2.3", "1.2.4"),  # as Go writes it
        ("1.2.4", False),
        ("0.0.0-20210101000000-abcdef123456", "1.2.4"),  # a pseudo-version sorts before 0.1.0
        ("1.3.0-rc.1", False),
        ("(devel)", False),  # no version: never matched
    ],
)
def test_go_modules_order_as_semver(installed: str, expected: str | bool) -> None:
    found = advisory("Go", "example.com/lib", "SEMVER", {"introduced": "0"}, {"fixed": "1.2.4"})
    assert fix(installed, found) == expected


def test_the_go_toolchain_is_stdlib_by_semver() -> None:
    found = advisory("Go", "stdlib", "SEMVER", {"introduced": "1.19.0-0"}, {"fixed": "1.19.9"})
    assert fix("1.19.8", found) == "1.19.9"
    assert fix("1.19.0-rc.2", found) == "1.19.9"
    assert fix("1.19.9", found) is False
    assert fix("1.18.10", found) is False


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ("2.14.1", "2.15.0"),
        ("2.0-beta9", "2.15.0"),  # the first affected version
        ("2.0-alpha1", False),  # before it in Maven's order
        ("2.15.0", False),
        ("2.15.0-rc1", "2.15.0"),  # a release candidate comes before its release
        ("2.9.10", "2.15.0"),  # numeric, not textual, order
    ],
)
def test_maven_versions_order_as_maven(installed: str, expected: str | bool) -> None:
    found = advisory(
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "ECOSYSTEM",
        {"introduced": "2.0-beta9"},
        {"fixed": "2.15.0"},
    )
    assert fix(installed, found) == expected


def test_go_and_maven_are_looked_up_whatever_the_operating_system() -> None:
    assert is_supported("Go")
    assert is_supported("Maven")
    for os in (None, OperatingSystem("debian", "12"), OperatingSystem("rhel", "9.3")):
        assert osv_ecosystem(os, "go") == ["Go"]
        assert osv_ecosystem(os, "java") == ["Maven"]
