"""Tests of the synthetic image generator: reproducibility, shape, sizes and CVSS consistency."""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import islice
from typing import Any

import orjson
import pytest
from cvss import CVSS2, CVSS3  # type: ignore[import-untyped]
from univers import versions

from app.cli.seed_data import DEFAULT_NOW, generate_images, write_ndjson

SHA = re.compile(r"sha256:[0-9a-f]{64}")
RFC3339_Z = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')
VULN_ID = re.compile(r"CVE-\d{4}-\d{4,}|GHSA(-[2-9cfghjmpqrvwx]{4}){3}|DSA-\d{4}-\d")
TIMESTAMP_KEYS = {
    "created", "lastUpdated", "scanTime", "publishedOn", "lastModified", "firstImageOccurrence",
    "firstSystemOccurrence", "fixAvailableTimestamp", "suppressActivation", "suppressExpiry",
}  # fmt: skip
DERIVED_KEYS = {"components", "cves", "fixableCves", "topCvss", "riskScore", "priority"}
# Enum names from the upstream swagger definitions.
_IMPACT3 = {"IMPACT_NONE", "IMPACT_LOW", "IMPACT_HIGH"}
_IMPACT2 = {"IMPACT_NONE", "IMPACT_PARTIAL", "IMPACT_COMPLETE"}
_LEVELS = ("UNKNOWN", "LOW", "MODERATE", "IMPORTANT", "CRITICAL")
_ORIGINS = "OTHER OSV ALPINE AMAZON DEBIAN ORACLE PHOTON RED_HAT SUSE UBUNTU"
ENUMS: dict[str, set[str]] = {
    "severity": {f"{level}_VULNERABILITY_SEVERITY" for level in _LEVELS},
    "state": {"OBSERVED", "DEFERRED", "FALSE_POSITIVE"},
    "scoreVersion": {"V2", "V3"},
    "vulnerabilityType": {"IMAGE_VULNERABILITY"},
    "source": {"OS", "PYTHON", "JAVA", "RUBY", "NODEJS", "GO", "DOTNETCORERUNTIME",
               "INFRASTRUCTURE"},
    "origin": {f"VULN_ORIGIN_{origin}" for origin in _ORIGINS.split(" ")},
    "imageNote": {"MISSING_METADATA", "MISSING_SCAN_DATA", "MISSING_SIGNATURE",
                  "MISSING_SIGNATURE_VERIFICATION_DATA"},
    "scanNote": {"UNSET", "OS_UNAVAILABLE", "PARTIAL_SCAN_DATA", "OS_CVES_UNAVAILABLE",
                 "OS_CVES_STALE", "LANGUAGE_CVES_UNAVAILABLE", "CERTIFIED_RHEL_SCAN_UNAVAILABLE"},
}  # fmt: skip
CVSS3_ENUMS: dict[str, set[str]] = {
    "attackVector": {"ATTACK_LOCAL", "ATTACK_ADJACENT", "ATTACK_NETWORK", "ATTACK_PHYSICAL"},
    "attackComplexity": {"COMPLEXITY_LOW", "COMPLEXITY_HIGH"},
    "privilegesRequired": {"PRIVILEGE_NONE", "PRIVILEGE_LOW", "PRIVILEGE_HIGH"},
    "userInteraction": {"UI_NONE", "UI_REQUIRED"}, "scope": {"UNCHANGED", "CHANGED"},
    "confidentiality": _IMPACT3, "integrity": _IMPACT3, "availability": _IMPACT3,
    "severity": {"UNKNOWN", "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"},
}  # fmt: skip
CVSS2_ENUMS: dict[str, set[str]] = {
    "attackVector": {"ATTACK_LOCAL", "ATTACK_ADJACENT", "ATTACK_NETWORK"},
    "accessComplexity": {"ACCESS_HIGH", "ACCESS_MEDIUM", "ACCESS_LOW"},
    "authentication": {"AUTH_MULTIPLE", "AUTH_SINGLE", "AUTH_NONE"},
    "confidentiality": _IMPACT2, "integrity": _IMPACT2, "availability": _IMPACT2,
    "severity": {"UNKNOWN", "LOW", "MEDIUM", "HIGH"},
}  # fmt: skip
VERSION_CLASSES: dict[str, type[versions.Version]] = {
    "debian": versions.DebianVersion, "ubuntu": versions.DebianVersion,
    "alpine": versions.AlpineLinuxVersion, "rhel": versions.RpmVersion,
    "PYTHON": versions.PypiVersion, "NODEJS": versions.SemverVersion,
}  # fmt: skip


@pytest.fixture(scope="module")
def small() -> list[dict[str, Any]]:
    return list(generate_images(400, seed=11))


@pytest.fixture(scope="module")
def realistic() -> list[dict[str, Any]]:
    return list(generate_images(16, seed=11, profile="realistic"))


def _scanned(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [image for image in images if image.get("scan") and image.get("metadata")]


def _vulns(images: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for image in images:
        for component in (image.get("scan") or {}).get("components", []):
            for vuln in component["vulns"]:
                yield component, vuln


@pytest.mark.parametrize("profile", ["small", "realistic"])
def test_output_depends_only_on_the_arguments(profile: str) -> None:
    first = list(generate_images(4, seed=3, profile=profile))
    assert first == list(generate_images(4, seed=3, profile=profile))
    assert first != list(generate_images(4, seed=4, profile=profile))
    assert list(generate_images(9, seed=3, profile=profile))[:4] == first  # image i ignores count


def test_default_clock_is_fixed() -> None:
    assert list(generate_images(5)) == list(generate_images(5, now=DEFAULT_NOW))
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - naive input is read as UTC
    assert list(generate_images(5, now=naive)) == list(generate_images(5))


def test_timestamps_follow_now() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    for image in generate_images(200, seed=2, now=now):
        updated = datetime.fromisoformat(image["lastUpdated"])
        assert now - timedelta(days=30) <= updated <= now
        if image["metadata"]:
            created = datetime.fromisoformat(image["metadata"]["v1"]["created"])
            assert now - timedelta(days=731) <= created <= updated
        if image.get("scan"):
            assert datetime.fromisoformat(image["scan"]["scanTime"]) <= updated


def test_generation_is_lazy() -> None:
    images = generate_images(10**12, profile="realistic")
    assert len(list(islice(images, 2))) == 2


def test_bad_arguments_fail_at_call_time() -> None:
    with pytest.raises(ValueError, match="count"):
        generate_images(-1)
    with pytest.raises(ValueError, match="profile"):
        generate_images(1, profile="huge")


@pytest.mark.parametrize(
    ("profile", "components", "vulns", "layers", "kilobytes"),
    [
        ("small", (2, 8), (0, 10), (2, 5), (2, 10)),
        ("realistic", (150, 400), (100, 500), (5, 25), (100, 400)),
    ],
)
def test_sizes_are_within_the_profile(
    profile: str,
    components: tuple[int, int],
    vulns: tuple[int, int],
    layers: tuple[int, int],
    kilobytes: tuple[int, int],
    request: pytest.FixtureRequest,
) -> None:
    images = _scanned(request.getfixturevalue(profile))
    for image in images:
        found = image["scan"]["components"]
        assert components[0] <= len(found) <= components[1]
        assert vulns[0] <= sum(len(c["vulns"]) for c in found) <= vulns[1]
        assert layers[0] <= len(image["metadata"]["v1"]["layers"]) <= layers[1]
        assert 1 <= len(image["names"]) <= 3
        assert len(image["metadata"]["v1"]["labels"]) <= 8
    sizes = [len(orjson.dumps(image)) / 1024 for image in images]
    # The median lands in the stated range; the largest images (most vulnerabilities) exceed it.
    assert kilobytes[0] <= statistics.median(sizes) <= kilobytes[1]
    assert max(sizes) <= 2 * kilobytes[1]


def test_some_images_have_gaps(small: list[dict[str, Any]]) -> None:
    no_scan = [image for image in small if not image.get("scan")]
    no_metadata = [image for image in small if image["metadata"] is None]
    assert 0 < len(no_scan) < len(small) // 8
    assert 0 < len(no_metadata) < len(small) // 8
    assert any("scan" not in image for image in no_scan)
    assert any("scan" in image for image in no_scan)
    assert all("MISSING_SCAN_DATA" in image["notes"] for image in no_scan)
    assert all("MISSING_METADATA" in image["notes"] for image in no_metadata)


def test_ids_and_names_are_well_formed(small: list[dict[str, Any]]) -> None:
    ids = [image["id"] for image in small]
    assert len(set(ids)) == len(ids)
    assert all(SHA.fullmatch(image_id) for image_id in ids)
    for image in filter(lambda image: image["metadata"], small):
        assert SHA.fullmatch(image["metadata"]["v1"]["digest"])
        assert image["metadata"]["v2"]["digest"] == image["id"]
        assert all(SHA.fullmatch(sha) for sha in image["metadata"]["layerShas"])
        assert image["metadata"]["version"].isdigit()  # uint64 as a JSON string
    names = [name for image in small for name in image["names"]]
    assert all(image["name"] == image["names"][0] for image in small)
    assert all(n["fullName"] == f"{n['registry']}/{n['remote']}:{n['tag']}" for n in names)
    registries = {"docker.io", "quay.io", "gcr.io", "ghcr.io", "registry.example.com"}
    assert {name["registry"] for name in names} == registries


def test_vulnerability_ids_are_well_formed(realistic: list[dict[str, Any]]) -> None:
    kinds = Counter(vuln["cve"].split("-")[0] for _, vuln in _vulns(realistic))
    assert all(VULN_ID.fullmatch(vuln["cve"]) for _, vuln in _vulns(realistic))
    assert kinds["CVE"] > kinds["GHSA"] + kinds["DSA"] > 0


def test_timestamps_are_rfc3339_utc(realistic: list[dict[str, Any]]) -> None:
    keys = "|".join(TIMESTAMP_KEYS)
    found = re.findall(rf'"({keys})":(null|"[^"]*"|[^,}}]*)', orjson.dumps(realistic).decode())
    assert {key for key, _ in found} >= TIMESTAMP_KEYS - {"suppressExpiry", "firstSystemOccurrence"}
    assert all(value == "null" or RFC3339_Z.fullmatch(value) for _, value in found)


def test_enums_are_upstream_names(realistic: list[dict[str, Any]]) -> None:
    for component, vuln in _vulns(realistic):
        assert component["source"] in ENUMS["source"]
        for key in ("severity", "state", "scoreVersion", "vulnerabilityType", "origin"):
            assert vuln[key] in ENUMS[key], key
        assert set(vuln["vulnerabilityTypes"]) <= ENUMS["vulnerabilityType"]
        scores, enums = (
            (vuln["cvssV3"], CVSS3_ENUMS)
            if vuln["scoreVersion"] == "V3"
            else (vuln["cvssV2"], CVSS2_ENUMS)
        )
        for key, allowed in enums.items():
            assert scores[key] in allowed, key
    for image in realistic:
        assert set(image["notes"]) <= ENUMS["imageNote"]
        if image.get("scan"):
            assert set(image["scan"]["notes"]) <= ENUMS["scanNote"]


@cache
def _parse(vector: str) -> CVSS3 | CVSS2:
    return CVSS3(vector) if vector.startswith("CVSS:3.1/") else CVSS2(vector)


def _assert_matches_vector(scores: dict[str, Any]) -> None:
    parsed = _parse(scores["vector"])
    assert scores["score"] == float(parsed.base_score)
    metrics = parsed.as_json(minimal=True)  # e.g. {"attackVector": "ADJACENT_NETWORK", ...}
    for field in (CVSS2_ENUMS.keys() | CVSS3_ENUMS.keys()) - {"severity"}:
        if field in scores:
            named = metrics.get(field) or metrics.get(field + "Impact") or metrics["accessVector"]
            assert named.startswith(scores[field].split("_", 1)[-1]), field


def _severity(score: float) -> str:
    """The ACS bands, written out independently of the generator."""
    bands = [(9, "CRITICAL"), (7, "IMPORTANT"), (4, "MODERATE"), (0.1, "LOW"), (0, "UNKNOWN")]
    return next(f"{name}_VULNERABILITY_SEVERITY" for low, name in bands if score >= low)


def test_scores_and_severities_come_from_the_vectors(realistic: list[dict[str, Any]]) -> None:
    score_versions: Counter[str] = Counter()
    for _, vuln in _vulns(realistic):
        score_versions[vuln["scoreVersion"]] += 1
        scores = vuln["cvssV3"] if vuln["scoreVersion"] == "V3" else vuln["cvssV2"]
        _assert_matches_vector(scores)
        assert vuln["cvss"] == scores["score"]
        assert vuln["severity"] == _severity(vuln["cvss"])
        if vuln["scoreVersion"] == "V3":
            assert scores["severity"] == _parse(scores["vector"]).severities()[0].upper()
            assert 0 <= scores["impactScore"] <= 6.1
            assert 0 < scores["exploitabilityScore"] <= 3.9
    assert score_versions["V3"] > score_versions["V2"] > 0


def test_fix_information_varies(realistic: list[dict[str, Any]]) -> None:
    kinds: Counter[str] = Counter()
    for component, vuln in _vulns(realistic):
        if "fixedBy" not in vuln:
            kinds["absent"] += 1
        elif vuln["fixedBy"] == "":
            kinds["unfixable"] += 1
        else:
            kinds["fixed"] += 1
            assert component["fixedBy"] == vuln["fixedBy"]
    assert kinds["fixed"] > kinds["unfixable"] > 0
    assert kinds["absent"] > 0


def test_fixed_versions_are_higher(realistic: list[dict[str, Any]]) -> None:
    checked = 0
    for image in realistic:
        family = (image.get("scan") or {}).get("operatingSystem", ":").split(":")[0]
        for component in (image.get("scan") or {}).get("components", []):
            if component["fixedBy"]:
                kind = family if component["source"] == "OS" else component["source"]
                version_class = VERSION_CLASSES[kind]
                assert version_class(component["version"]) < version_class(component["fixedBy"])
                checked += 1
    assert checked > 100


def test_vulnerability_states_vary(realistic: list[dict[str, Any]]) -> None:
    states = Counter(vuln["state"] for _, vuln in _vulns(realistic))
    assert states["OBSERVED"] > 10 * (states["DEFERRED"] + states["FALSE_POSITIVE"])
    assert states["DEFERRED"] > 0
    assert states["FALSE_POSITIVE"] > 0
    assert any(vuln["suppressed"] for _, vuln in _vulns(realistic))
    assert all(100 <= len(vuln["summary"]) <= 300 for _, vuln in _vulns(realistic))


def test_components_and_layers_agree(realistic: list[dict[str, Any]]) -> None:
    sources: Counter[str] = Counter()
    for image in _scanned(realistic):
        layers = image["metadata"]["v1"]["layers"]
        assert len(image["metadata"]["layerShas"]) == sum(not layer["empty"] for layer in layers)
        for component in image["scan"]["components"]:
            assert not layers[component["layerIndex"]]["empty"]
            sources[component["source"]] += 1
            assert bool(component["location"]) == (component["source"] != "OS")
        for base in image["baseImageInfo"]:
            assert 0 <= base["maxLayerIndex"] < len(layers) - 1
    assert sources["OS"] > sources["PYTHON"] + sources["NODEJS"] > 0


def test_derived_fields_are_left_to_the_service(realistic: list[dict[str, Any]]) -> None:
    for image in realistic:
        assert not DERIVED_KEYS & set(image)
        for component in (image.get("scan") or {}).get("components", []):
            assert not {"topCvss", "riskScore", "priority"} & set(component)


@pytest.mark.parametrize("export_lines", [False, True])
def test_write_ndjson_writes_one_object_per_line(export_lines: bool) -> None:
    images = list(generate_images(3, seed=1))
    out = io.BytesIO()
    assert write_ndjson(iter(images), out, export_lines=export_lines) == 3
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert lines == ([{"result": {"image": image}} for image in images] if export_lines else images)
    assert write_ndjson([], out) == 0
