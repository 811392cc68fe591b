"""A scan of an image holding a real Go binary and a war with a vulnerable nested jar, pushed to a
real registry and matched against Go and Maven OSV records; a binary a Debian package installed
is that package only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.scanner.layers.parsers.go_buildinfo import go_toolchain_semver
from tests.scanner.scan_support import load_feed, scan_settings, unique_repo
from tests.support.go_build import MODULES, GoBinary
from tests.support.java_archives import LOG4J, jar, log4j_core_jar
from tests.support.oci.layers import LayerBuilder
from tests.support.oci.manifests import image_config
from tests.support.oci.push import push_image
from tests.support.oci.samples import CRITICAL, DEBIAN_OS_RELEASE, HIGH, dpkg_stanza, osv
from tests.support.registry import RunningRegistry
from tests.support.swagger import validate_definition

APP = "usr/local/bin/app"
WAR = "srv/shop.war"
LOG4J_NAME = f"{LOG4J[0]}:{LOG4J[1]}"
JACKSON = ("com.fasterxml.jackson.core", "jackson-databind", "2.13.2.2")


def semver_record(osv_id: str, package: str, *, fixed: str, cve: str) -> dict[str, Any]:
    record = osv(osv_id, "Go", package, fixed=fixed, cve=cve, vector=HIGH)
    record["affected"][0]["ranges"][0]["type"] = "SEMVER"  # as the Go vulnerability database
    return record


def next_patch(semver: str) -> str:
    major, minor, patch = semver.split("-", 1)[0].split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def feed(go_binary: GoBinary) -> list[dict[str, Any]]:
    stdlib_fix = next_patch(go_toolchain_semver(go_binary.toolchain))
    return [
        semver_record("GO-2024-0001", "example.com/lib", fixed="1.2.4", cve="CVE-2024-0001"),
        # the replacing module's own fix is the version compiled in: not affected
        semver_record("GO-2024-0002", "example.com/fork", fixed="1.0.1", cve="CVE-2024-0002"),
        # the replaced module is not what was compiled in
        semver_record("GO-2024-0003", "example.com/old", fixed="9.0.0", cve="CVE-2024-0003"),
        semver_record("GO-2024-0004", "stdlib", fixed=stdlib_fix, cve="CVE-2024-0004"),
        {
            **osv("GHSA-jfh8-c2jp-5v3q", "Maven", LOG4J_NAME, fixed="2.15.0", vector=CRITICAL),
            "aliases": ["CVE-2021-44228"],
            "affected": [
                {
                    "package": {"ecosystem": "Maven", "name": LOG4J_NAME},
                    "ranges": [
                        {
                            "type": "ECOSYSTEM",
                            "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}],
                        }
                    ],
                }
            ],
        },
        osv(
            "GHSA-57j2-w4cx-62h2",
            "Maven",
            ":".join(JACKSON[:2]),
            fixed="2.12.6.1",
            cve="CVE-2020-36518",
        ),
    ]


@pytest.fixture
async def client(
    nx_db: Any, registry: RunningRegistry, app_client: Any, tmp_path: Path, go_binary: GoBinary
) -> Any:
    await load_feed(nx_db, tmp_path / "feed", feed(go_binary))
    return await app_client(scan_settings(registry.host), nx_db)


def image_layers(go_binary: GoBinary) -> list[Any]:
    base = (
        LayerBuilder()
        .add_file("etc/os-release", DEBIAN_OS_RELEASE)
        .add_file("var/lib/dpkg/status", dpkg_stanza("golang-app", "1.0-1").encode())
        .add_file("var/lib/dpkg/info/golang-app.list", b"/.\n/usr\n/usr/bin\n/usr/bin/packaged\n")
        .add_file("usr/bin/packaged", go_binary.data, mode=0o755)
    )
    war = jar(
        headers={"Implementation-Title": "shop", "Implementation-Version": "3.1"},
        nested=[
            ("WEB-INF/lib/log4j-core-2.14.1.jar", log4j_core_jar()),
            ("WEB-INF/lib/jackson-databind-2.13.2.2.jar", jar(JACKSON)),
        ],
    )
    app = LayerBuilder().add_file(APP, go_binary.data, mode=0o755).add_file(WAR, war)
    return [base.build("gzip"), app.build("zstd")]


async def test_go_modules_and_nested_jars_are_found_and_matched(
    client: Any, registry: RunningRegistry, go_binary: GoBinary
) -> None:
    layers = image_layers(go_binary)
    pushed = push_image(registry, unique_repo(), "1", layers, image_config(layers))
    response = await client.post("/v1/images/scan", json={"imageName": pushed.reference(registry)})
    assert response.status == 200, await response.text()
    image: dict[str, Any] = await response.json()
    validate_definition("storageImage", image)
    found = {
        (c["name"], c["location"]): c for c in image["scan"]["components"] if c["source"] != "OS"
    }
    nested = f"{WAR}!/WEB-INF/lib"
    assert {key: c["source"] for key, c in found.items()} == {
        ("stdlib", APP): "GO",
        **{(name, APP): "GO" for name, _ in MODULES},
        ("shop", WAR): "JAVA",
        (LOG4J_NAME, f"{nested}/log4j-core-2.14.1.jar"): "JAVA",
        (":".join(JACKSON[:2]), f"{nested}/jackson-databind-2.13.2.2.jar"): "JAVA",
    }
    vulns = {key[0]: [(v["cve"], v.get("fixedBy")) for v in c["vulns"]] for key, c in found.items()}
    assert vulns["example.com/lib"] == [("CVE-2024-0001", "1.2.4")]
    assert vulns["example.com/fork"] == []
    assert vulns["stdlib"] == [
        ("CVE-2024-0004", next_patch(go_toolchain_semver(go_binary.toolchain)))
    ]
    assert vulns[LOG4J_NAME] == [("CVE-2021-44228", "2.15.0")]
    assert vulns[":".join(JACKSON[:2])] == []
    assert {c["layerIndex"] for c in found.values()} == {1}
    log4j = found[(LOG4J_NAME, f"{nested}/log4j-core-2.14.1.jar")]
    assert log4j["version"] == "2.14.1"
    assert log4j["vulns"][0]["severity"] == "CRITICAL_VULNERABILITY_SEVERITY"
    # the binary golang-app installed is golang-app, matched against Debian's advisories
    assert [c["name"] for c in image["scan"]["components"] if c["source"] == "OS"] == ["golang-app"]
    assert "LANGUAGE_CVES_UNAVAILABLE" not in image["scan"].get("notes", [])
    assert "PARTIAL_SCAN_DATA" not in image["scan"].get("notes", [])
