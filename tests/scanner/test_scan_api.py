"""ScanImage end to end: a real registry, real layers, an imported OSV feed, nx-27017."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.scanner.scan_support import load_feed, metric, scan_settings, unique_repo
from tests.support.oci.samples import FEED_V1, FEED_V2, push_alpine, push_debian
from tests.support.registry import RunningRegistry
from tests.support.swagger import assert_all_fields_present, validate_definition


@pytest.fixture
async def client(nx_db: Any, registry: RunningRegistry, app_client: Any) -> Any:
    return await app_client(scan_settings(registry.host), nx_db)


@pytest.fixture
async def feed_v1(nx_db: Any, tmp_path: Path) -> None:
    await load_feed(nx_db, tmp_path / "feed", FEED_V1)


async def scan(client: Any, name: str, **extra: Any) -> Any:
    return await client.post("/v1/images/scan", json={"imageName": name, **extra})


def by_name(image: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in image["scan"]["components"]}


def cves(component: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["cve"]: v for v in component["vulns"]}


async def test_scan_finds_packages_layers_and_vulnerabilities(
    client: Any, registry: RunningRegistry, feed_v1: None
) -> None:
    pushed = push_debian(registry, unique_repo(), "1.0")
    response = await scan(client, pushed.reference(registry))
    assert response.status == 200, await response.text()
    image = await response.json()
    validate_definition("storageImage", image)
    assert_all_fields_present("storageImage", image)

    assert image["id"] == pushed.digest
    assert image["name"]["fullName"] == pushed.reference(registry)
    assert image["metadata"]["v2"]["digest"] == pushed.digest
    assert image["metadata"]["layerShas"] == list(pushed.layer_digests)
    v1 = image["metadata"]["v1"]
    assert v1["digest"] == pushed.config_digest
    assert image["metadata"]["dataSource"]["id"] == registry.host
    assert image["metadata"]["dataSource"]["name"] == "anonymous"
    assert v1["command"] == ["bash"]
    assert v1["user"] == "app"
    assert v1["labels"] == {"org.example.build": "v1"}
    assert [(layer["instruction"], layer["empty"]) for layer in v1["layers"]] == [
        ("ADD", False),
        ("CMD", True),
        ("RUN", False),
        ("COPY", False),
        ("RUN", False),
    ]
    assert v1["layers"][2]["value"] == "apt-get install -y curl"

    assert image["scan"]["operatingSystem"] == "debian:12"
    components = by_name(image)
    # urllib3 was removed by a whiteout in the last layer; nginx is not installed
    assert set(components) == {
        "base-files",
        "libc6",
        "libssl3",
        "zlib1g",
        "curl",
        "requests",
        "lodash",
    }
    # layerIndex points into metadata.v1.layers, which include the empty CMD entry
    assert components["libssl3"]["layerIndex"] == 0
    assert components["curl"]["layerIndex"] == 2
    assert components["requests"]["layerIndex"] == 3
    assert components["requests"]["source"] == "PYTHON"
    assert components["lodash"]["source"] == "NODEJS"
    assert components["lodash"]["location"].endswith("node_modules/lodash/package.json")
    assert components["curl"]["source"] == "OS"

    # advisories are filed under the source package: libssl3 comes from openssl
    ssl = cves(components["libssl3"])["CVE-2024-0001"]
    assert ssl["fixedBy"] == "3.0.13-1~deb12u1"
    assert ssl["severity"] == "CRITICAL_VULNERABILITY_SEVERITY"
    assert ssl["cvss"] == pytest.approx(9.8)
    assert ssl["scoreVersion"] == "V3"
    assert ssl["cvssV3"]["vector"].startswith("CVSS:3.1/")
    assert ssl["link"] == "https://example.test/DSA-0001"
    assert components["libssl3"]["fixedBy"] == "3.0.13-1~deb12u1"
    assert components["libssl3"]["topCvss"] == pytest.approx(9.8)
    assert cves(components["curl"])["CVE-2024-0002"]["fixedBy"] == ""  # known, not fixed
    assert set(cves(components["requests"])) == {"CVE-2023-32681"}
    assert set(cves(components["lodash"])) == {"CVE-2021-23337"}
    assert components["zlib1g"]["vulns"] == []
    assert image["cves"] == 4
    assert image["fixableCves"] == 3
    assert image["components"] == 7
    assert image["topCvss"] == pytest.approx(9.8)
    assert float(image["riskScore"]) > 0
    assert image["scan"]["notes"] == []
    assert image["scan"]["dataSource"]["name"].startswith("OSV feed ")

    stored = await (await client.get(f"/v1/images/{pushed.digest}")).json()
    assert by_name(stored).keys() == components.keys()
    for query in (
        "Component:curl",
        "CVE:CVE-2024-0001",
        "Fixable:true",
        "Severity:CRITICAL",
        "Image OS:debian:12",
        f"Image Sha:{pushed.digest}",
    ):
        listed = await (await client.get("/v1/images", params={"query": query})).json()
        assert [i["id"] for i in listed["images"]] == [pushed.digest], query
    none = await (await client.get("/v1/images", params={"query": "Component:urllib3"})).json()
    assert none["images"] == []


async def test_alpine_packages_match_by_origin(
    client: Any, registry: RunningRegistry, feed_v1: None
) -> None:
    pushed = push_alpine(registry, unique_repo("base/alpine"), "3.19")
    image = await (await scan(client, pushed.reference(registry))).json()
    assert image["scan"]["operatingSystem"] == "alpine:3.19"
    components = by_name(image)
    assert set(components) == {"musl", "libcrypto3", "busybox"}
    vuln = cves(components["libcrypto3"])["CVE-2024-0727"]
    assert vuln["fixedBy"] == "3.1.4-r5"
    assert vuln["severity"] == "MODERATE_VULNERABILITY_SEVERITY"
    listed = await (await client.get("/v1/images", params={"query": "Image OS:alpine"})).json()
    assert [i["id"] for i in listed["images"]] == [pushed.digest]


async def test_second_scan_is_served_from_caches_and_force_goes_back(
    client: Any, registry: RunningRegistry, feed_v1: None
) -> None:
    pushed = push_debian(registry, unique_repo(), "cached")
    name = pushed.reference(registry)
    first = await (await scan(client, name)).json()
    downloads = await metric(client, "layers_downloaded")
    assert downloads == 4

    again = await scan(client, name)
    assert again.status == 200
    second = await again.json()
    assert await metric(client, "layers_downloaded") == downloads
    assert await metric(client, "metadata_from_cache") == 1
    assert await metric(client, "reused") == 1
    assert second["scan"]["scanTime"] == first["scan"]["scanTime"]

    forced = await (await scan(client, name, force=True)).json()
    assert await metric(client, "layers_downloaded") == downloads + 4
    assert forced["scan"]["scanTime"] > first["scan"]["scanTime"]
    assert by_name(forced).keys() == by_name(first).keys()


async def test_invalidating_caches_keeps_stored_scans(
    client: Any, registry: RunningRegistry, feed_v1: None
) -> None:
    pushed = push_debian(registry, unique_repo(), "inv")
    await scan(client, pushed.reference(registry))
    assert (await (await client.get("/v1/images/cache/invalidate")).json()) == {}
    response = await scan(client, pushed.reference(registry))
    assert response.status == 200
    # metadata came from the registry again, but the stored scan was reused: no layers
    assert await metric(client, "metadata_from_cache") == 0
    assert await metric(client, "layers_downloaded") == 4
    assert await metric(client, "reused") == 1


async def test_a_feed_change_rematches_stored_images_without_the_registry(
    client: Any, registry: RunningRegistry, nx_db: Any, tmp_path: Path
) -> None:
    await load_feed(nx_db, tmp_path / "feed", FEED_V1)
    pushed = push_debian(registry, unique_repo(), "feed")
    before = await (await scan(client, pushed.reference(registry))).json()
    assert cves(by_name(before)["zlib1g"]) == {}

    rematched = await load_feed(nx_db, tmp_path / "feed", FEED_V2)
    assert rematched == 1
    after = await (await client.get(f"/v1/images/{pushed.digest}")).json()
    components = by_name(after)
    assert cves(components["zlib1g"])["CVE-2024-0004"]["severity"] == (
        "CRITICAL_VULNERABILITY_SEVERITY"
    )
    assert cves(components["curl"])["CVE-2024-0002"]["fixedBy"] == "7.88.1-10+deb12u6"
    assert after["cves"] == 5
    assert after["fixableCves"] == 5
    assert after["scan"]["dataSource"] != before["scan"]["dataSource"]
    assert after["scan"]["scanTime"] > before["scan"]["scanTime"]
    assert await metric(client, "layers_downloaded") == 4  # nothing pulled again

    # an identical re-import changes nothing
    assert await load_feed(nx_db, tmp_path / "feed", FEED_V2) == 0


# upstream upserts on every ScanImage; a reused scan here rewrites the image for a new name,
# or when its last update is over an hour old (README, compatibility)
async def test_a_reused_scan_updates_the_image_for_a_new_name(
    client: Any, registry: RunningRegistry
) -> None:
    pushed = push_debian(registry, unique_repo(), "reuse")
    first = await (await scan(client, pushed.reference(registry))).json()
    await asyncio.sleep(0.05)
    again = await (await scan(client, pushed.reference(registry))).json()
    assert again["lastUpdated"] == first["lastUpdated"]  # same name, just updated: no write
    await asyncio.sleep(0.05)
    by_digest = await (await scan(client, pushed.reference(registry, by_digest=True))).json()
    assert by_digest["scan"]["scanTime"] == first["scan"]["scanTime"]  # reused
    assert by_digest["lastUpdated"] > first["lastUpdated"]
    assert {n["fullName"] for n in by_digest["names"]} == {
        pushed.reference(registry),
        pushed.reference(registry, by_digest=True),
    }


async def test_metadata_cached_by_tag_serves_a_scan_by_digest(
    client: Any, registry: RunningRegistry
) -> None:
    pushed = push_alpine(registry, unique_repo(), "both")
    await scan(client, pushed.reference(registry))
    response = await scan(client, pushed.reference(registry, by_digest=True))
    assert response.status == 200
    assert (await response.json())["id"] == pushed.digest
    assert await metric(client, "metadata_from_cache") == 1
