"""Scans that do not mislead: Python packages of Debian packages are the Debian package, OS CVEs
without a score of their own get their CVE's score, first sightings are kept across images, and an
image whose package database is gone says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.scanner.scan_support import load_feed, scan_settings, unique_repo
from tests.support.oci.layers import LayerBuilder
from tests.support.oci.manifests import image_config
from tests.support.oci.push import PushedImage, push_image
from tests.support.oci.samples import CRITICAL, DEBIAN_OS_RELEASE, dist_info, dpkg_stanza, osv
from tests.support.registry import RunningRegistry
from tests.support.swagger import validate_definition

SITE = "usr/lib/python3/dist-packages"
PIP_SITE = "usr/local/lib/python3.11/dist-packages"
V3_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
URLLIB3_EGG = f"{SITE}/urllib3-1.26.12.egg-info"
STATUS = "\n".join(
    [
        dpkg_stanza("libc6", "2.36-9+deb12u4", "glibc"),
        dpkg_stanza("python3-urllib3", "1.26.12-1+deb12u1", "python-urllib3", arch="all"),
    ]
).encode()


def debian_with_python_packages(*, keep_database: bool = True, pip: bool = True) -> list[Any]:
    base = (
        LayerBuilder()
        .add_file("etc/os-release", DEBIAN_OS_RELEASE)
        .add_file("var/lib/dpkg/status", STATUS)
        .add_file(
            "var/lib/dpkg/info/python3-urllib3.list",
            f"/.\n/usr\n/{SITE}\n/{URLLIB3_EGG}\n/{URLLIB3_EGG}/PKG-INFO\n".encode(),
        )
        .add_file(f"{URLLIB3_EGG}/PKG-INFO", dist_info("urllib3", "1.26.12"))
    )
    installs = (
        LayerBuilder()
        .add_file(f"{SITE}/requests-2.31.0.dist-info/METADATA", dist_info("requests", "2.31.0"))
        .add_file(f"{PIP_SITE}/urllib3-1.26.17.dist-info/METADATA", dist_info("urllib3", "1.26.17"))
    )
    layers = [base.build("gzip"), installs.build("gzip")] if pip else [base.build("gzip")]
    if not keep_database:
        layers.append(LayerBuilder().add_whiteout("var/lib/dpkg").build("gzip"))
    return layers


def push(registry: RunningRegistry, layers: list[Any]) -> PushedImage:
    return push_image(registry, unique_repo(), "1", layers, image_config(layers))


FEED = [
    # Debian fixed urllib3's CVE in its own package; PyPI's advisory would call 1.26.12 affected
    osv("DEBIAN-CVE-2023-43804", "Debian:12", "python-urllib3", fixed="1.26.12-1+deb12u1"),
    osv("GHSA-v845", "PyPI", "urllib3", fixed="1.26.18", cve="CVE-2023-45803", vector=CRITICAL),
    # Debian's record of a glibc CVE has no CVSS; NVD's record of the CVE has the score
    osv("DEBIAN-CVE-2024-2961", "Debian:12", "glibc", fixed=None),
    {
        "id": "CVE-2024-2961",
        "modified": "2024-05-01T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": V3_HIGH}],
        "affected": [
            {
                "ranges": [
                    {
                        "type": "GIT",
                        "repo": "https://sourceware.org/git/glibc.git",
                        "events": [{"introduced": "0"}],
                    }
                ]
            }
        ],
    },
]


@pytest.fixture
async def client(nx_db: Any, registry: RunningRegistry, app_client: Any, tmp_path: Path) -> Any:
    await load_feed(nx_db, tmp_path / "feed", FEED)
    return await app_client(scan_settings(registry.host), nx_db)


async def scan(client: Any, name: str) -> dict[str, Any]:
    response = await client.post("/v1/images/scan", json={"imageName": name})
    assert response.status == 200, await response.text()
    image: dict[str, Any] = await response.json()
    validate_definition("storageImage", image)
    return image


def components(image: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in image["scan"]["components"]}


async def test_debian_python_packages_are_matched_as_debian_packages(
    client: Any, registry: RunningRegistry
) -> None:
    image = await scan(client, push(registry, debian_with_python_packages()).reference(registry))
    found = components(image)
    assert {(c["name"], c["version"], c["source"]) for c in image["scan"]["components"]} == {
        ("libc6", "2.36-9+deb12u4", "OS"),
        ("python3-urllib3", "1.26.12-1+deb12u1", "OS"),
        ("requests", "2.31.0", "PYTHON"),
        ("urllib3", "1.26.17", "PYTHON"),  # pip's own copy
    }
    assert found["python3-urllib3"]["vulns"] == []  # Debian's advisory: fixed in its package
    assert [v["cve"] for v in found["urllib3"]["vulns"]] == ["CVE-2023-45803"]
    assert found["urllib3"]["location"].startswith(PIP_SITE)
    assert found["libc6"]["architecture"] == "amd64"
    assert found["python3-urllib3"]["architecture"] == "all"


async def test_an_unscored_os_cve_gets_its_score_and_counts_everywhere(
    client: Any, registry: RunningRegistry
) -> None:
    image = await scan(client, push(registry, debian_with_python_packages()).reference(registry))
    [vuln] = components(image)["libc6"]["vulns"]
    assert vuln["cve"] == "CVE-2024-2961"
    assert (vuln["cvss"], vuln["scoreVersion"]) == (pytest.approx(7.5), "V3")
    assert vuln["cvssV3"]["vector"] == V3_HIGH
    assert vuln["severity"] == "IMPORTANT_VULNERABILITY_SEVERITY"
    assert components(image)["libc6"]["topCvss"] == pytest.approx(7.5)
    for query in (
        "Component:libc6+CVSS:7.5",
        "Component:libc6+Severity:IMPORTANT_VULNERABILITY_SEVERITY",
        "Image Top CVSS:>9",  # pip's urllib3: critical
    ):
        listed = await (await client.get("/v1/images", params={"query": query})).json()
        assert [i["id"] for i in listed["images"]] == [image["id"]], query


async def test_first_system_occurrence_is_the_first_image_seen_with_the_cve(
    client: Any, registry: RunningRegistry
) -> None:
    first = await scan(client, push(registry, debian_with_python_packages()).reference(registry))
    layers = debian_with_python_packages()
    layers.append(LayerBuilder().add_file("app/x", b"another image").build("gzip"))
    second = await scan(client, push(registry, layers).reference(registry))
    assert first["id"] != second["id"]
    [earlier] = components(first)["libc6"]["vulns"]
    [later] = components(second)["libc6"]["vulns"]
    assert later["firstSystemOccurrence"] == earlier["firstSystemOccurrence"]
    assert later["firstImageOccurrence"] > earlier["firstImageOccurrence"]


async def test_an_image_without_its_package_database_is_not_called_clean(
    client: Any, registry: RunningRegistry
) -> None:
    layers = debian_with_python_packages(keep_database=False)
    image = await scan(client, push(registry, layers).reference(registry))
    assert image["scan"]["operatingSystem"] == "debian:12"
    assert "OS_CVES_UNAVAILABLE" in image["scan"]["notes"]
    # the dpkg file lists went with the database: Debian's urllib3 copy is unowned now
    assert {c["location"] for c in image["scan"]["components"]} == {
        f"{URLLIB3_EGG}/PKG-INFO",
        f"{SITE}/requests-2.31.0.dist-info/METADATA",
        f"{PIP_SITE}/urllib3-1.26.17.dist-info/METADATA",
    }


async def test_the_borrowed_score_is_the_image_top_cvss(
    client: Any, registry: RunningRegistry
) -> None:
    layers = debian_with_python_packages(pip=False)
    image = await scan(client, push(registry, layers).reference(registry))
    assert image["topCvss"] == pytest.approx(7.5)
    listed = await (await client.get("/v1/images", params={"query": "Image Top CVSS:7.5"})).json()
    assert [i["id"] for i in listed["images"]] == [image["id"]]
