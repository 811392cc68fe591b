"""RPM-based images scanned through a real registry: the components are exactly what `rpm -qa`
lists (gpg-pubkey aside), advisories of the distribution's OSV ecosystem match with rpm's
version order, and Python packages that an RPM installed are not PyPI components.

The databases are made in the test run by Debian's rpm tools (tests/support/rpm_fixtures.py):
rpm 4.18 writes rpmdb.sqlite; db5.3_load writes the Berkeley DB `Packages` from its headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.scanner.scan_support import load_feed, scan_settings, unique_repo
from tests.support.oci.layers import LayerBuilder
from tests.support.oci.manifests import image_config
from tests.support.oci.push import push_image
from tests.support.oci.samples import CRITICAL, HIGH, MEDIUM, dist_info, osv
from tests.support.registry import RunningRegistry
from tests.support.rpm_fixtures import URLLIB3_EGG, URLLIB3_PKG_INFO, RpmFixtures, rpm_fixtures
from tests.support.swagger import validate_definition

RHEL_9 = b"""NAME="Red Hat Enterprise Linux"
VERSION="9.3 (Plow)"
ID="rhel"
VERSION_ID="9.3"
PRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"
"""
ALMA_8 = b"""NAME="AlmaLinux"
VERSION="8.9 (Midnight Oncilla)"
ID="almalinux"
VERSION_ID="8.9"
PRETTY_NAME="AlmaLinux 8.9 (Midnight Oncilla)"
"""
PIP_SITE = "usr/local/lib/python3.9/site-packages"


def red_hat_record(osv_id: str, streams: dict[str, str], package: str, vector: str) -> Any:
    """A Red Hat advisory as Red Hat files it: one affected entry per product stream."""
    record = osv(osv_id, "unused", package, fixed=None, cve=f"CVE-2024-{osv_id[-4:]}")
    record["severity"] = [{"type": "CVSS_V3", "score": vector}]
    record["affected"] = [
        {
            "package": {"ecosystem": stream, "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        }
        for stream, fixed in streams.items()
    ]
    return record


FEED = [
    red_hat_record(
        "RHSA-2024:1001",
        {
            "Red Hat:enterprise_linux:9::baseos": "1:3.0.7-18.el9_2",
            "Red Hat:enterprise_linux:8::baseos": "1:1.1.1k-12.el8",
        },
        "openssl",
        CRITICAL,
    ),
    # fixed by the installed release: not a finding
    red_hat_record(
        "RHSA-2024:1002",
        {"Red Hat:enterprise_linux:9::appstream": "1.26.5-3.el9"},
        "python-urllib3",
        HIGH,
    ),
    osv("ALSA-2024:2001", "AlmaLinux:8", "bash", fixed="5.1.8-6.el9_2", cve="CVE-2024-2001"),
    osv("RLSA-2024:3001", "Rocky Linux:9", "bash", fixed="5.1.8-9.el9", cve="CVE-2024-3001"),
    osv("GHSA-urllib3", "PyPI", "urllib3", fixed="1.26.18", cve="CVE-2023-45803", vector=MEDIUM),
]


@pytest.fixture(scope="module")
def rpms() -> RpmFixtures:
    return rpm_fixtures()


@pytest.fixture
async def client(nx_db: Any, registry: RunningRegistry, app_client: Any, tmp_path: Path) -> Any:
    await load_feed(nx_db, tmp_path / "feed", FEED)
    return await app_client(scan_settings(registry.host), nx_db)


def push(registry: RunningRegistry, os_release: bytes, database: tuple[str, bytes]) -> str:
    path, data = database
    base = (
        LayerBuilder()
        .add_file("etc/os-release", os_release)
        .add_file(path, data)
        .add_file(f"{URLLIB3_EGG}/PKG-INFO", URLLIB3_PKG_INFO)
    )
    pip = LayerBuilder().add_file(
        f"{PIP_SITE}/urllib3-1.26.17.dist-info/METADATA", dist_info("urllib3", "1.26.17")
    )
    layers = [base.build("gzip"), pip.build("gzip")]
    return push_image(registry, unique_repo(), "1", layers, image_config(layers)).reference(
        registry
    )


async def scan(client: Any, name: str) -> dict[str, Any]:
    response = await client.post("/v1/images/scan", json={"imageName": name})
    assert response.status == 200, await response.text()
    image: dict[str, Any] = await response.json()
    validate_definition("storageImage", image)
    return image


def os_components(image: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (c["name"], c["version"], c.get("architecture", ""), c["license"]["name"])
        for c in image["scan"]["components"]
        if c["source"] == "OS"
    }


def rpm_qa(rpms: RpmFixtures) -> set[tuple[str, str, str, str]]:
    return {
        (entry.name, entry.version, entry.arch, entry.license)
        for entry in rpms.listed
        if entry.name != "gpg-pubkey"
    }


def cves(image: dict[str, Any]) -> dict[str, set[str]]:
    return {
        c["name"]: {v["cve"] for v in c["vulns"]} for c in image["scan"]["components"] if c["vulns"]
    }


async def test_sqlite_rpmdb_image_lists_rpm_qa_and_matches_red_hat_streams(
    client: Any, registry: RunningRegistry, rpms: RpmFixtures
) -> None:
    image = await scan(
        client, push(registry, RHEL_9, ("var/lib/rpm/rpmdb.sqlite", rpms.sqlite.read_bytes()))
    )
    scan_doc = image["scan"]
    assert scan_doc["operatingSystem"] == "rhel:9"
    assert os_components(image) == rpm_qa(rpms)
    python = [c for c in scan_doc["components"] if c["source"] == "PYTHON"]
    assert [(c["name"], c["version"], c["location"]) for c in python] == [
        ("urllib3", "1.26.17", f"{PIP_SITE}/urllib3-1.26.17.dist-info/METADATA")
    ]
    assert cves(image) == {
        "openssl": {"CVE-2024-1001"},
        "openssl-libs": {"CVE-2024-1001"},
        "urllib3": {"CVE-2023-45803"},
    }
    openssl = next(c for c in scan_doc["components"] if c["name"] == "openssl-libs")
    assert openssl["fixedBy"] == "1:3.0.7-18.el9_2"
    assert openssl["location"] == "var/lib/rpm/rpmdb.sqlite"
    assert openssl["vulns"][0]["cvss"] == pytest.approx(9.8)
    assert "OS_CVES_UNAVAILABLE" not in scan_doc.get("notes", [])


async def test_berkeley_db_image_lists_rpm_qa_and_matches_its_ecosystem(
    client: Any, registry: RunningRegistry, rpms: RpmFixtures
) -> None:
    image = await scan(
        client, push(registry, ALMA_8, ("var/lib/rpm/Packages", rpms.bdb.read_bytes()))
    )
    assert image["scan"]["operatingSystem"] == "almalinux:8"
    assert os_components(image) == rpm_qa(rpms)
    # AlmaLinux 8's bash advisory; Rocky's and Red Hat's are other ecosystems
    assert cves(image) == {"bash": {"CVE-2024-2001"}, "urllib3": {"CVE-2023-45803"}}
    bash = next(c for c in image["scan"]["components"] if c["name"] == "bash")
    assert bash["fixedBy"] == "5.1.8-6.el9_2"
    assert "OS_CVES_UNAVAILABLE" not in image["scan"].get("notes", [])


async def test_a_distribution_without_an_osv_ecosystem_says_so(
    client: Any, registry: RunningRegistry, rpms: RpmFixtures
) -> None:
    centos = b'NAME="CentOS Linux"\nID="centos"\nVERSION_ID="7"\n'
    image = await scan(
        client, push(registry, centos, ("var/lib/rpm/Packages", rpms.bdb.read_bytes()))
    )
    assert os_components(image) == rpm_qa(rpms)
    assert "OS_CVES_UNAVAILABLE" in image["scan"]["notes"]
    assert set(cves(image)) == {"urllib3"}
