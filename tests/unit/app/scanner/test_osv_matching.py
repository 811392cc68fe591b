"""OSV records: parsing, range semantics per ecosystem, fix choice, CVSS and severity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.scanner.vulns.embedded import (
    cvss_v2,
    cvss_v3,
    severity_for_hint,
    severity_for_score,
    to_embedded_vulnerability,
)
from app.scanner.vulns.lookup import (
    MatchInput,
    index_advisories,
    lookup_keys,
    match_packages,
    unscored_cves,
)
from app.scanner.vulns.matching import Match, affected_fix
from app.scanner.vulns.osv import Advisory, OsvError, cve_scores, parse_record, primary_cve
from schemas.image import normalize_image
from tests.support.images import component, image

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
V3_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
V3_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5


def record(*affected: dict[str, Any], osv_id: str = "OSV-2024-1", **extra: Any) -> dict[str, Any]:
    return {"id": osv_id, "modified": "2024-05-01T10:00:00Z", "affected": list(affected), **extra}


def pkg(
    ecosystem: str,
    name: str,
    *events: dict[str, str],
    versions: list[str] | None = None,
    range_type: str = "ECOSYSTEM",
    **extra: Any,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}, **extra}
    if events:
        entry["ranges"] = [{"type": range_type, "events": list(events)}]
    if versions is not None:
        entry["versions"] = versions
    return entry


def advisory(*affected: dict[str, Any], **extra: Any) -> Advisory:
    (only,) = parse_record(record(*affected, **extra))
    return only


def intro(v: str) -> dict[str, str]:
    return {"introduced": v}


def fixed(v: str) -> dict[str, str]:
    return {"fixed": v}


def fixed_by(adv: Advisory, installed: str) -> str | None | bool:
    """The fix the match reports, or False when not affected."""
    match = affected_fix(adv, installed)
    return False if match is None else match.fixed_by


# --- parsing -------------------------------------------------------------------------------


def test_parse_one_advisory_per_package_with_all_fields() -> None:
    raw = record(
        pkg("Debian:12", "openssl", intro("0"), fixed("3.0.13-1~deb12u1")),
        pkg("Debian:12", "openssl", versions=["3.0.11-1~deb12u1"]),
        pkg("Debian:11", "openssl", intro("0"), fixed("1.1.1w-0+deb11u1")),
        pkg("Debian:12", "curl", {"introduced": "0"}),
        osv_id="DSA-5678-1",
        aliases=["CVE-2023-5678"],
        summary="openssl security update",
        published="2024-01-02T03:04:05.123456+01:00",
        severity=[{"type": "CVSS_V3", "score": V3_HIGH}],
        references=[{"type": "WEB", "url": "https://w"}, {"type": "ADVISORY", "url": "https://a"}],
    )
    advisories = {(a["ecosystem"], a["package"]): a for a in parse_record(raw)}
    assert set(advisories) == {
        ("Debian:12", "openssl"),
        ("Debian:11", "openssl"),
        ("Debian:12", "curl"),
    }
    first = advisories[("Debian:12", "openssl")]
    assert first["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}
    ]
    assert first["versions"] == ["3.0.11-1~deb12u1"]
    assert first["cve"] == "CVE-2023-5678"
    assert first["osv_id"] == "DSA-5678-1"
    assert first["link"] == "https://a"
    assert first["published"] == "2024-01-02T02:04:05.123456Z"
    assert first["modified"] == "2024-05-01T10:00:00Z"
    assert first["cvss_vectors"] == {"v3": V3_HIGH, "v2": None, "v4": None}
    assert first["summary"] == "openssl security update"


def test_withdrawn_records_git_ranges_and_empty_packages_are_dropped() -> None:
    assert (
        parse_record(record(pkg("PyPI", "x", intro("0")), withdrawn="2024-01-01T00:00:00Z")) == []
    )
    git_only = {
        "package": {"ecosystem": "PyPI", "name": "x"},
        "ranges": [{"type": "GIT", "repo": "https://g", "events": [intro("abc")]}],
    }
    assert parse_record(record(git_only)) == []
    assert parse_record(record({"ranges": []})) == []  # no package at all


def test_invalid_records_raise() -> None:
    with pytest.raises(OsvError):
        parse_record({"affected": []})
    with pytest.raises(OsvError):
        parse_record({"id": "X", "affected": {"not": "a list"}})


def test_summary_falls_back_to_the_first_line_of_details_and_link_to_osv() -> None:
    adv = advisory(pkg("npm", "x", intro("0")), details="\n  First line.\nSecond line.")
    assert adv["summary"] == "First line."
    assert adv["link"] == "https://osv.dev/vulnerability/OSV-2024-1"


def test_pypi_names_are_normalized() -> None:
    adv = advisory(pkg("PyPI", "Foo_Bar.baz", intro("0")))
    assert adv["package"] == "foo-bar-baz"


@pytest.mark.parametrize(
    ("osv_id", "aliases", "upstream", "cve"),
    [
        ("CVE-2024-1", ["GHSA-x"], [], "CVE-2024-1"),
        ("GHSA-abcd", ["PYSEC-1", "CVE-2024-2", "CVE-2024-3"], [], "CVE-2024-2"),
        ("DEBIAN-CVE-2024-4", [], [], "CVE-2024-4"),
        ("UBUNTU-CVE-2024-5", [], ["CVE-2024-5"], "CVE-2024-5"),
        ("ALPINE-CVE-2024-6", [], [], "CVE-2024-6"),
        ("USN-6000-1", [], ["CVE-2024-7"], "CVE-2024-7"),
        ("USN-6001-1", [], ["CVE-2024-8", "CVE-2024-9"], "USN-6001-1"),
        ("GHSA-none", ["PYSEC-2"], [], "GHSA-none"),
    ],
)
def test_cve_choice(osv_id: str, aliases: list[str], upstream: list[str], cve: str) -> None:
    assert primary_cve(osv_id, aliases, upstream) == cve


# --- range semantics -----------------------------------------------------------------------


def test_introduced_zero_and_fixed() -> None:
    adv = advisory(pkg("PyPI", "x", intro("0"), fixed("2.0")))
    assert fixed_by(adv, "0.1") == "2.0"
    assert fixed_by(adv, "1.9.9") == "2.0"
    assert fixed_by(adv, "2.0") is False
    assert fixed_by(adv, "2.1") is False


def test_introduced_is_inclusive() -> None:
    adv = advisory(pkg("PyPI", "x", intro("1.5"), fixed("2.0")))
    assert fixed_by(adv, "1.4") is False
    assert fixed_by(adv, "1.5") == "2.0"


def test_last_affected_is_inclusive_and_known_unfixed() -> None:
    adv = advisory(pkg("PyPI", "x", intro("1.0"), {"last_affected": "1.4"}))
    assert fixed_by(adv, "1.4") == ""
    assert fixed_by(adv, "1.4.1") is False


def test_limit_is_exclusive() -> None:
    adv = advisory(pkg("PyPI", "x", intro("0"), {"limit": "3.0"}))
    assert fixed_by(adv, "2.9") == ""
    assert fixed_by(adv, "3.0") is False
    unbounded = advisory(pkg("PyPI", "x", intro("1.0"), {"limit": "*"}))
    assert fixed_by(unbounded, "99") == ""


def test_no_fixed_event_means_known_unfixed() -> None:
    adv = advisory(pkg("PyPI", "x", intro("1.0")))
    assert fixed_by(adv, "5.0") == ""
    assert fixed_by(adv, "0.9") is False


def test_multiple_ranges_and_lowest_fix_above_installed() -> None:
    adv = advisory(
        pkg("PyPI", "x", intro("1.0"), fixed("1.5"), intro("2.0"), fixed("2.3")),
    )
    assert fixed_by(adv, "1.2") == "1.5"
    assert fixed_by(adv, "1.7") is False
    assert fixed_by(adv, "2.1") == "2.3"
    assert fixed_by(adv, "2.3") is False
    # events in any order: they are sorted first
    shuffled = advisory(pkg("PyPI", "x", fixed("2.3"), intro("2.0"), fixed("1.5"), intro("1.0")))
    assert fixed_by(shuffled, "2.1") == "2.3"


def test_separate_ranges_are_each_evaluated() -> None:
    entry = pkg("PyPI", "x")
    entry["ranges"] = [
        {"type": "ECOSYSTEM", "events": [intro("0"), fixed("1.5")]},
        {"type": "ECOSYSTEM", "events": [intro("2.0"), fixed("2.3")]},
    ]
    adv = advisory(entry)
    assert fixed_by(adv, "1.0") == "1.5"
    assert fixed_by(adv, "2.2") == "2.3"
    assert fixed_by(adv, "1.8") is False


def test_explicit_versions_list() -> None:
    adv = advisory(pkg("PyPI", "x", versions=["1.0", "1.1"]))
    assert fixed_by(adv, "1.1") is None  # affected, and no fix information at all
    assert fixed_by(adv, "1.0.0") is None  # equal as a PyPI version
    assert fixed_by(adv, "1.2") is False
    both = advisory(pkg("PyPI", "x", intro("3.0"), fixed("3.2"), versions=["1.1"]))
    assert fixed_by(both, "1.1") == "3.2"


def test_unparsable_versions_never_match() -> None:
    adv = advisory(pkg("Debian:12", "x", intro("0"), fixed("2.0-1")))
    assert affected_fix(adv, "not a version") is None
    broken = advisory(pkg("Debian:12", "x", intro("0"), fixed("@@@")))
    assert affected_fix(broken, "1.0-1") is None
    unsupported = advisory(pkg("crates.io", "x", intro("0")))
    assert affected_fix(unsupported, "1.0") is None


def test_debian_epochs_and_tildes() -> None:
    adv = advisory(pkg("Debian:12", "x", intro("0"), fixed("1:2.3-1")))
    assert fixed_by(adv, "2.3~rc1") == "1:2.3-1"  # no epoch (0) sorts below epoch 1
    assert fixed_by(adv, "9.9-1") == "1:2.3-1"
    assert fixed_by(adv, "1:2.3-1") is False
    tilde = advisory(pkg("Debian:12", "x", intro("0"), fixed("2.3")))
    assert fixed_by(tilde, "2.3~rc1") == "2.3"  # ~ sorts before the release
    assert fixed_by(tilde, "2.3+deb12u1") is False
    backport = advisory(pkg("Ubuntu:22.04:LTS", "x", intro("0"), fixed("3.0.2-0ubuntu1.15")))
    assert fixed_by(backport, "3.0.2-0ubuntu1.10") == "3.0.2-0ubuntu1.15"


def test_alpine_revisions() -> None:
    adv = advisory(pkg("Alpine:v3.19", "busybox", intro("0"), fixed("1.36.1-r16")))
    assert fixed_by(adv, "1.36.1-r15") == "1.36.1-r16"
    assert fixed_by(adv, "1.36.1-r2") == "1.36.1-r16"  # numeric, not textual
    assert fixed_by(adv, "1.36.1-r16") is False
    assert fixed_by(adv, "1.36.1_rc1-r20") == "1.36.1-r16"


def test_pypi_pre_releases() -> None:
    adv = advisory(pkg("PyPI", "x", intro("0"), fixed("2.0")))
    assert fixed_by(adv, "2.0rc1") == "2.0"
    assert fixed_by(adv, "2.0.dev3") == "2.0"
    assert fixed_by(adv, "2.0.post1") is False


def test_npm_semver() -> None:
    adv = advisory(pkg("npm", "lodash", intro("0"), fixed("4.17.21"), range_type="SEMVER"))
    assert fixed_by(adv, "4.17.20") == "4.17.21"
    assert fixed_by(adv, "4.17.21-beta.1") == "4.17.21"
    assert fixed_by(adv, "4.17.21") is False
    assert fixed_by(adv, "4.9.0") == "4.17.21"  # numeric: 9 < 17


# --- severity and CVSS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (10.0, "CRITICAL_VULNERABILITY_SEVERITY"),
        (9.0, "CRITICAL_VULNERABILITY_SEVERITY"),
        (8.9, "IMPORTANT_VULNERABILITY_SEVERITY"),
        (7.0, "IMPORTANT_VULNERABILITY_SEVERITY"),
        (6.9, "MODERATE_VULNERABILITY_SEVERITY"),
        (4.0, "MODERATE_VULNERABILITY_SEVERITY"),
        (3.9, "LOW_VULNERABILITY_SEVERITY"),
        (0.1, "LOW_VULNERABILITY_SEVERITY"),
        (0.0, "UNKNOWN_VULNERABILITY_SEVERITY"),
    ],
)
def test_severity_thresholds(score: float, severity: str) -> None:
    assert severity_for_score(score) == severity


@pytest.mark.parametrize(
    ("hint", "severity"),
    [
        ("CRITICAL", "CRITICAL_VULNERABILITY_SEVERITY"),
        ("high", "IMPORTANT_VULNERABILITY_SEVERITY"),
        ("MODERATE", "MODERATE_VULNERABILITY_SEVERITY"),
        ("low**", "LOW_VULNERABILITY_SEVERITY"),
        ("unimportant", "LOW_VULNERABILITY_SEVERITY"),
        ("not yet assigned", "UNKNOWN_VULNERABILITY_SEVERITY"),
        (None, "UNKNOWN_VULNERABILITY_SEVERITY"),
    ],
)
def test_severity_hints(hint: str | None, severity: str) -> None:
    assert severity_for_hint(hint) == severity


def test_cvss_v3_wire_object() -> None:
    assert cvss_v3(V3_HIGH) == {
        "vector": V3_HIGH,
        "exploitabilityScore": 3.9,
        "impactScore": 3.6,
        "attackVector": "ATTACK_NETWORK",
        "attackComplexity": "COMPLEXITY_LOW",
        "privilegesRequired": "PRIVILEGE_NONE",
        "userInteraction": "UI_NONE",
        "scope": "UNCHANGED",
        "confidentiality": "IMPACT_NONE",
        "integrity": "IMPACT_NONE",
        "availability": "IMPACT_HIGH",
        "score": 7.5,
        "severity": "HIGH",
    }
    changed = cvss_v3("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N")
    assert changed is not None
    assert (changed["attackVector"], changed["scope"], changed["severity"]) == (
        "ATTACK_PHYSICAL",
        "CHANGED",
        "LOW",
    )


def test_cvss_v2_wire_object() -> None:
    assert cvss_v2("(AV:N/AC:M/Au:S/C:N/I:N/A:C)") == {
        "vector": "AV:N/AC:M/Au:S/C:N/I:N/A:C",
        "attackVector": "ATTACK_NETWORK",
        "accessComplexity": "ACCESS_MEDIUM",
        "authentication": "AUTH_SINGLE",
        "confidentiality": "IMPACT_NONE",
        "integrity": "IMPACT_NONE",
        "availability": "IMPACT_COMPLETE",
        "exploitabilityScore": 6.8,
        "impactScore": 6.9,
        "score": 6.3,
        "severity": "MEDIUM",
    }


@pytest.mark.parametrize("vector", ["garbage", "", "CVSS:3.1/AV:N", V2_HIGH, None])
def test_bad_v3_vectors_are_safe(vector: str | None) -> None:
    assert cvss_v3(vector) is None


def test_embedded_vulnerability_from_a_v3_advisory() -> None:
    adv = advisory(
        pkg("Debian:12", "openssl", intro("0"), fixed("3.0.13-1")),
        osv_id="DSA-1-1",
        aliases=["CVE-2024-1"],
        summary="fix",
        published="2024-01-01T00:00:00Z",
        severity=[{"type": "CVSS_V3", "score": V3_HIGH}, {"type": "CVSS_V2", "score": V2_HIGH}],
    )
    vuln = to_embedded_vulnerability(adv, Match(fixed_by="3.0.13-1"), NOW)
    assert vuln["cve"] == "CVE-2024-1"
    assert vuln["advisory"] == {"name": "DSA-1-1", "link": "https://osv.dev/vulnerability/DSA-1-1"}
    assert vuln["cvss"] == 7.5
    assert vuln["scoreVersion"] == "V3"
    assert vuln["cvssV3"]["vector"] == V3_HIGH
    assert vuln["cvssV2"] is None
    assert vuln["severity"] == "IMPORTANT_VULNERABILITY_SEVERITY"
    assert vuln["fixedBy"] == "3.0.13-1"
    assert vuln["publishedOn"] == "2024-01-01T00:00:00Z"
    assert vuln["lastModified"] == "2024-05-01T10:00:00Z"
    assert vuln["vulnerabilityType"] == "IMAGE_VULNERABILITY"
    assert vuln["vulnerabilityTypes"] == ["IMAGE_VULNERABILITY"]
    assert vuln["state"] == "OBSERVED"
    assert vuln["fixAvailableTimestamp"] == vuln["firstImageOccurrence"] == "2026-03-01T12:00:00Z"


def test_embedded_vulnerability_v2_v4_hint_and_fix_states() -> None:
    v2 = advisory(pkg("PyPI", "x", intro("0")), severity=[{"type": "CVSS_V2", "score": V2_HIGH}])
    vuln = to_embedded_vulnerability(v2, Match(fixed_by=""), NOW)
    assert (vuln["cvss"], vuln["scoreVersion"], vuln["cvssV3"]) == (7.5, "V2", None)
    assert vuln["cvssV2"]["exploitabilityScore"] == 10.0
    assert vuln["fixedBy"] == ""
    assert vuln["fixAvailableTimestamp"] is None
    v4 = advisory(
        pkg("PyPI", "x", intro("0")),
        severity=[
            {
                "type": "CVSS_V4",
                "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            }
        ],
    )
    vuln = to_embedded_vulnerability(v4, Match(fixed_by=None), NOW)
    assert (vuln["cvss"], vuln["scoreVersion"]) == (9.3, "V3")
    assert vuln["cvssV3"] is None
    assert vuln["cvssV2"] is None
    assert vuln["severity"] == "CRITICAL_VULNERABILITY_SEVERITY"
    assert "fixedBy" not in vuln
    hinted = advisory(
        pkg("Ubuntu:22.04:LTS", "x", intro("0")),
        severity=[{"type": "Ubuntu", "score": "high"}, {"type": "CVSS_V3", "score": "broken"}],
    )
    vuln = to_embedded_vulnerability(hinted, Match(fixed_by=""), NOW)
    assert (vuln["cvss"], vuln["scoreVersion"], vuln["cvssV3"]) == (0.0, "V2", None)
    assert vuln["severity"] == "IMPORTANT_VULNERABILITY_SEVERITY"
    ghsa = advisory(pkg("npm", "x", intro("0")), database_specific={"severity": "MODERATE"})
    assert to_embedded_vulnerability(ghsa, Match(fixed_by=""), NOW)["severity"] == (
        "MODERATE_VULNERABILITY_SEVERITY"
    )


# --- packages ------------------------------------------------------------------------------


def test_match_packages_dedupes_by_cve() -> None:
    dsa = advisory(
        pkg("Debian:12", "openssl", intro("0"), fixed("3.0.14-1")),
        osv_id="DSA-2-1",
        aliases=["CVE-2024-9"],
        severity=[{"type": "CVSS_V3", "score": V3_HIGH}],
    )
    record_cve = advisory(
        pkg("Debian:12", "openssl", intro("0"), fixed("3.0.13-1")),
        osv_id="DEBIAN-CVE-2024-9",
        severity=[{"type": "CVSS_V3", "score": V3_CRITICAL}],
    )
    other = advisory(pkg("Debian:12", "openssl", intro("0")), osv_id="DEBIAN-CVE-2024-10")
    unrelated = advisory(pkg("Debian:12", "curl", intro("0")), osv_id="DEBIAN-CVE-2024-11")
    index = index_advisories([dsa, record_cve, other, unrelated])
    inputs = [
        MatchInput(("Debian:12",), "openssl", "3.0.11-1"),
        MatchInput(("Debian:12",), "zlib", "1.0-1"),
    ]
    assert lookup_keys(inputs) == (["Debian:12"], ["openssl", "zlib"])
    openssl, zlib = match_packages(inputs, index, now=NOW)
    assert zlib == []
    assert [v["cve"] for v in openssl] == ["CVE-2024-10", "CVE-2024-9"]
    merged = openssl[1]
    assert merged["cvss"] == 9.8  # the highest score
    assert merged["fixedBy"] == "3.0.13-1"  # the lowest fix
    assert openssl[0]["fixedBy"] == ""


def test_embedded_vulnerabilities_are_valid_wire_values() -> None:
    adv = advisory(
        pkg("Debian:12", "openssl", intro("0"), fixed("3.0.13-1")),
        osv_id="DSA-1-1",
        aliases=["CVE-2024-1"],
        published="2024-01-01T00:00:00.5Z",
        severity=[{"type": "CVSS_V3", "score": V3_HIGH}, {"type": "CVSS_V2", "score": V2_HIGH}],
    )
    v2_only = advisory(pkg("Debian:12", "openssl", intro("0")), osv_id="DEBIAN-CVE-2024-2")
    v2_only["cvss_vectors"]["v2"] = V2_HIGH
    vulns = [
        to_embedded_vulnerability(adv, Match(fixed_by="3.0.13-1"), NOW),
        to_embedded_vulnerability(v2_only, Match(fixed_by=None), NOW),
    ]
    raw = image("docker.io/library/debian:12", component("openssl", "3.0.11-1", *vulns))
    (stored,) = normalize_image(raw)["scan"]["components"]
    first, second = stored["vulns"]
    assert first["cvssV3"]["attackVector"] == "ATTACK_NETWORK"
    assert first["publishedOn"] == datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert first["fixedBy"] == "3.0.13-1"
    assert second["cvssV2"]["authentication"] == "AUTH_NONE"
    assert "fixedBy" not in second


# --- scores of OS advisories ---------------------------------------------------------------


def test_cve_scores_come_from_the_records_that_have_vectors() -> None:
    nvd = {"id": "CVE-2024-9", "severity": [{"type": "CVSS_V3", "score": V3_CRITICAL}]}
    ghsa = {
        "id": "GHSA-aaaa-bbbb-cccc",
        "aliases": ["CVE-2024-9", "PYSEC-1"],
        "affected": [
            pkg("PyPI", "x", intro("0"), severity=[{"type": "CVSS_V3", "score": V3_HIGH}])
        ],
    }
    debian = record(pkg("Debian:12", "x", intro("0")), osv_id="DEBIAN-CVE-2024-9")
    [own] = cve_scores(nvd)
    assert (own["cve"], own["rank"], own["cvss_vectors"]["v3"], own["ecosystems"]) == (
        "CVE-2024-9",
        0,
        V3_CRITICAL,
        [],
    )
    [alias] = cve_scores(ghsa)
    assert (alias["cve"], alias["osv_id"], alias["rank"], alias["ecosystems"]) == (
        "CVE-2024-9",
        "GHSA-aaaa-bbbb-cccc",
        1,
        ["PyPI"],
    )
    assert cve_scores(debian) == []  # nothing to lend
    ubuntu = record(
        pkg("Ubuntu:22.04:LTS", "x", intro("0")),
        osv_id="UBUNTU-CVE-2024-9",
        upstream=["CVE-2024-9"],
        severity=[{"type": "Ubuntu", "score": "medium"}, {"type": "CVSS_V3", "score": V3_HIGH}],
    )
    [other] = cve_scores(ubuntu)
    assert (other["cve"], other["rank"], other["cvss_vectors"]["v3"]) == ("CVE-2024-9", 2, V3_HIGH)
    notice = record(
        pkg("Ubuntu:22.04:LTS", "x", intro("0")),
        osv_id="USN-1-1",
        upstream=["CVE-2024-1", "CVE-2024-2"],
        severity=[{"type": "CVSS_V3", "score": V3_HIGH}],
    )
    assert cve_scores(notice) == []  # a notice about several CVEs scores none of them
    assert cve_scores({**nvd, "withdrawn": "2024-01-01T00:00:00Z"}) == []


def test_an_unscored_debian_cve_borrows_the_score_and_keeps_its_urgency() -> None:
    urgent = advisory(
        pkg("Debian:12", "openssl", intro("0"), ecosystem_specific={"urgency": "low"}),
        osv_id="DEBIAN-CVE-2024-9",
    )
    plain = advisory(pkg("Debian:12", "zlib", intro("0")), osv_id="DEBIAN-CVE-2024-8")
    borrowed = {"v3": V3_CRITICAL, "v2": None, "v4": None}
    vuln = to_embedded_vulnerability(urgent, Match(fixed_by=""), NOW, borrowed)
    assert (vuln["cvss"], vuln["scoreVersion"]) == (9.8, "V3")
    assert vuln["cvssV3"]["vector"] == V3_CRITICAL
    assert vuln["severity"] == "LOW_VULNERABILITY_SEVERITY"  # Debian's own rating first
    vuln = to_embedded_vulnerability(plain, Match(fixed_by=""), NOW, borrowed)
    assert vuln["severity"] == "CRITICAL_VULNERABILITY_SEVERITY"  # no rating: the score's band
    assert to_embedded_vulnerability(plain, Match(fixed_by=""), NOW)["cvss"] == 0.0
    # an advisory's own vectors win over borrowed ones
    own = advisory(
        pkg("Debian:12", "zlib", intro("0")),
        osv_id="DEBIAN-CVE-2024-7",
        severity=[{"type": "CVSS_V3", "score": V3_HIGH}],
    )
    assert to_embedded_vulnerability(own, Match(fixed_by=""), NOW, borrowed)["cvss"] == 7.5


def test_a_language_advisory_follows_its_score_before_its_level() -> None:
    ghsa = advisory(
        pkg("npm", "x", intro("0")),
        database_specific={"severity": "LOW"},
        severity=[{"type": "CVSS_V3", "score": V3_CRITICAL}],
    )
    vuln = to_embedded_vulnerability(ghsa, Match(fixed_by=""), NOW)
    assert vuln["severity"] == "CRITICAL_VULNERABILITY_SEVERITY"


def test_match_packages_lends_scores_by_cve() -> None:
    unscored = advisory(pkg("Alpine:v3.19", "musl", intro("0")), osv_id="ALPINE-CVE-2024-5")
    assert unscored_cves([unscored]) == {"CVE-2024-5"}
    [musl] = match_packages(
        [MatchInput(("Alpine:v3.19",), "musl", "1.2.4-r0")],
        index_advisories([unscored]),
        now=NOW,
        borrowed={"CVE-2024-5": {"v3": V3_HIGH, "v2": None, "v4": None}},
    )
    assert [(v["cve"], v["cvss"], v["severity"]) for v in musl] == [
        ("CVE-2024-5", 7.5, "IMPORTANT_VULNERABILITY_SEVERITY")
    ]


def test_a_red_hat_style_summary_gives_the_rating() -> None:
    alsa = advisory(
        pkg("AlmaLinux:9", "openssl", intro("0"), fixed("1:3.0.7-25.el9_3")),
        osv_id="ALSA-2024:0310",
        summary="Important: openssl security update",
    )
    assert alsa["severity_hint"] == "important"
    vuln = to_embedded_vulnerability(alsa, Match(fixed_by="1:3.0.7-25.el9_3"), NOW)
    assert vuln["severity"] == "IMPORTANT_VULNERABILITY_SEVERITY"
    plain = advisory(pkg("PyPI", "x", intro("0")), summary="Critical flaw: in x")
    assert plain["severity_hint"] is None
