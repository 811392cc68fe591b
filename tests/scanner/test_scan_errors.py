"""ScanImage over every manifest kind, and every way a scan can fail, in the error shape."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_images import assert_error
from tests.scanner.scan_support import load_feed, metric, scan_settings, unique_repo
from tests.support.oci import (
    LayerBuilder,
    corrupt_blob,
    image_config,
    layer_from_chunks,
    push_image,
    push_index,
    push_schema1,
    zero_file_tar_chunks,
)
from tests.support.oci.samples import FEED_V1, alpine_layers, push_alpine, push_debian
from tests.support.registry import RunningRegistry, free_port


@pytest.fixture
async def client(nx_db: Any, registry: RunningRegistry, app_client: Any) -> Any:
    return await app_client(scan_settings(registry.host), nx_db)


async def scan(client: Any, name: str, **extra: Any) -> Any:
    return await client.post("/v1/images/scan", json={"imageName": name, **extra})


@pytest.mark.parametrize("kind", ["oci", "docker"])
async def test_single_manifests_of_each_kind(
    client: Any, registry: RunningRegistry, kind: str
) -> None:
    pushed = push_debian(registry, unique_repo(), "1", kind=kind)
    response = await scan(client, pushed.reference(registry))
    assert response.status == 200, await response.text()
    image = await response.json()
    assert image["id"] == pushed.digest
    assert image["scan"]["operatingSystem"] == "debian:12"
    # no feed imported: the scan says so instead of claiming the image is clean
    assert "OS_CVES_UNAVAILABLE" in image["scan"]["notes"]
    assert "LANGUAGE_CVES_UNAVAILABLE" in image["scan"]["notes"]


@pytest.mark.parametrize("kind", ["oci", "docker"])
async def test_an_index_resolves_to_the_configured_platform(
    client: Any, registry: RunningRegistry, kind: str
) -> None:
    repo = unique_repo("multi/arch")
    amd64 = push_debian(registry, repo, "amd64")
    arm64 = push_alpine(registry, repo, "arm64", architecture="arm64")
    index = push_index(registry, repo, "both", [(arm64, "linux/arm64"), (amd64, "linux/amd64")],
                       kind=kind)  # fmt: skip
    image = await (await scan(client, f"{registry.host}/{repo}:both")).json()
    assert image["id"] == amd64.digest
    assert image["metadata"]["v2"]["digest"] == amd64.digest
    assert image["scan"]["operatingSystem"] == "debian:12"
    # by the index digest: that digest stays the image id, as upstream keeps a named digest
    by_digest = await (await scan(client, f"{registry.host}/{repo}@{index}")).json()
    assert by_digest["id"] == index
    assert by_digest["metadata"]["v2"]["digest"] == amd64.digest


async def test_another_platform_can_be_configured(
    nx_db: Any, app_client: Any, registry: RunningRegistry
) -> None:
    settings = scan_settings(registry.host)
    from dataclasses import replace

    settings = replace(settings, registry=replace(settings.registry, platform="linux/arm64"))
    client = await app_client(settings, nx_db)
    repo = unique_repo("multi/arch")
    amd64 = push_debian(registry, repo, "amd64")
    arm64 = push_alpine(registry, repo, "arm64", architecture="arm64")
    push_index(registry, repo, "both", [(amd64, "linux/amd64"), (arm64, "linux/arm64/v8")])
    image = await (await scan(client, f"{registry.host}/{repo}:both")).json()
    assert image["id"] == arm64.digest
    assert image["scan"]["operatingSystem"] == "alpine:3.19"


async def test_no_matching_platform_is_not_found(client: Any, registry: RunningRegistry) -> None:
    repo = unique_repo("multi/arch")
    arm64 = push_alpine(registry, repo, "arm64", architecture="arm64")
    push_index(registry, repo, "arm-only", [(arm64, "linux/arm64")])
    response = await scan(client, f"{registry.host}/{repo}:arm-only")
    assert response.status == 404
    assert_error(await response.json(), 5, "linux/amd64")


async def test_schema1_is_refused_clearly(client: Any, registry: RunningRegistry) -> None:
    repo = unique_repo("old/schema")
    push_schema1(registry, repo, "v1")
    response = await scan(client, f"{registry.host}/{repo}:v1")
    assert response.status == 400
    assert_error(await response.json(), 9, "schema 1")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("", "image name must be specified"), ("UPPER/Case", "invalid reference format")],
)
async def test_bad_names_are_400(client: Any, name: str, fragment: str) -> None:
    response = await scan(client, name)
    assert response.status == 400
    assert_error(await response.json(), 3, fragment)


async def test_delegated_scanning_is_refused(client: Any, registry: RunningRegistry) -> None:
    response = await scan(client, f"{registry.host}/x:1", cluster="prod")
    assert response.status == 400
    assert_error(await response.json(), 3, "delegated scanning is not supported")


async def test_unknown_repository_and_tag_are_404(client: Any, registry: RunningRegistry) -> None:
    pushed = push_alpine(registry, unique_repo(), "exists")
    for name in (f"{registry.host}/nobody/here:1", f"{registry.host}/{pushed.repo}:missing"):
        response = await scan(client, name)
        assert response.status == 404, name
        body = await response.json()
        assert_error(body, 5, registry.host)


async def test_unreachable_registry_is_503_naming_it(
    nx_db: Any,
    app_client: Any,
) -> None:
    host = f"127.0.0.1:{free_port()}"
    client = await app_client(scan_settings(host, max_retries=0), nx_db)
    response = await scan(client, f"{host}/team/app:1")
    assert response.status == 503
    assert_error(await response.json(), 14, host)


async def test_a_registry_that_never_answers_is_504(
    nx_db: Any,
    app_client: Any,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # holds the connection open and never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    host = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    settings = scan_settings(host, max_retries=0, request_timeout_s=0.5)
    client = await app_client(settings, nx_db)
    try:
        response = await scan(client, f"{host}/team/app:1")
        assert response.status == 504
        assert_error(await response.json(), 4, host)
    finally:
        server.close()
        await server.wait_closed()


async def test_registry_credentials_from_a_docker_config(
    nx_db: Any, app_client: Any, auth_registry: RunningRegistry, tmp_path: Path
) -> None:
    pushed = push_alpine(auth_registry, unique_repo("private/app"), "1")
    name = pushed.reference(auth_registry)

    anonymous = await app_client(scan_settings(auth_registry.host), nx_db)
    response = await scan(anonymous, name)
    assert response.status == 403
    assert_error(await response.json(), 7, auth_registry.host)

    wrong = tmp_path / "wrong.json"
    token = base64.b64encode(f"{auth_registry.username}:nope".encode()).decode()
    wrong.write_text(json.dumps({"auths": {auth_registry.host: {"auth": token}}}))
    client = await app_client(scan_settings(auth_registry.host, auth_file=str(wrong)), nx_db)
    response = await scan(client, name)
    assert response.status == 403
    assert_error(await response.json(), 7, auth_registry.host)

    good = tmp_path / "config.json"
    entry = {"username": auth_registry.username, "password": auth_registry.password}
    good.write_text(json.dumps({"auths": {f"http://{auth_registry.host}": entry}}))
    client = await app_client(scan_settings(auth_registry.host, auth_file=str(good)), nx_db)
    response = await scan(client, name)
    assert response.status == 200, await response.text()
    image = await response.json()
    assert image["scan"]["operatingSystem"] == "alpine:3.19"
    # which credentials served the metadata
    source = image["metadata"]["dataSource"]
    assert source["id"] == auth_registry.host
    assert source["name"].endswith(f"credentials for {auth_registry.host}")


async def test_content_that_does_not_match_its_digest_is_refused(
    client: Any, registry: RunningRegistry
) -> None:
    # registries store blobs by digest across repositories: tamper with a layer of our own
    unique = LayerBuilder().add_file("etc/motd", uuid.uuid4().bytes).build("gzip")
    layers = [*alpine_layers(), unique]
    repo = unique_repo("tampered/app")
    pushed = push_image(registry, repo, "1", layers, image_config(layers))
    corrupt_blob(registry, unique.digest)
    response = await scan(client, pushed.reference(registry))
    assert response.status == 503
    body = await response.json()
    assert_error(body, 14, unique.digest)
    assert registry.host in body["message"]
    listed = await (await client.get("/v1/imagescount")).json()
    assert listed == {"count": 0}  # nothing half-scanned was stored


async def test_a_decompression_bomb_stops_at_the_limit(
    nx_db: Any, app_client: Any, registry: RunningRegistry
) -> None:
    limit = 64 << 20
    settings = scan_settings(registry.host).with_overrides(max_inflated_layer_bytes=limit)
    client = await app_client(settings, nx_db)
    bomb = layer_from_chunks(zero_file_tar_chunks([("zeros", 256 << 20)]), "gzip", level=9)
    assert bomb.size < 2 << 20
    layers = [*alpine_layers(), bomb]
    pushed = push_image(registry, unique_repo("bomb/app"), "1", layers, image_config(layers))
    response = await scan(client, pushed.reference(registry))
    assert response.status == 400
    body = await response.json()
    assert_error(body, 9, bomb.digest)
    assert str(limit) in body["message"].replace(",", "") or "64" in body["message"]


async def test_scans_beyond_the_limit_wait_then_get_429(
    nx_db: Any,
    app_client: Any,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    host = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    settings = scan_settings(host, max_retries=0, request_timeout_s=3).with_overrides(
        max_concurrent_scans=1, scan_queue_wait_s=0.2
    )
    client = await app_client(settings, nx_db)
    try:
        slow = asyncio.create_task(scan(client, f"{host}/team/slow:1"))
        await asyncio.sleep(0.3)
        response = await scan(client, f"{host}/team/other:1")
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert_error(await response.json(), 8, "retry later")
        assert (await slow).status == 504
        assert await metric(client, "rejected_busy") == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_identical_concurrent_scans_share_one_analysis(
    client: Any, registry: RunningRegistry, nx_db: Any, tmp_path: Path
) -> None:
    await load_feed(nx_db, tmp_path / "feed", FEED_V1)
    pushed = push_debian(registry, unique_repo(), "shared")
    responses = await asyncio.gather(*(scan(client, pushed.reference(registry)) for _ in range(6)))
    bodies = [await r.json() for r in responses]
    assert {b["id"] for b in bodies} == {pushed.digest}
    assert await metric(client, "analysed") == 1
    assert await metric(client, "layers_downloaded") == 4


async def test_what_the_scanner_cannot_read_is_noted(
    client: Any, registry: RunningRegistry, nx_db: Any, tmp_path: Path
) -> None:
    await load_feed(nx_db, tmp_path / "feed", FEED_V1)
    rhel = (
        LayerBuilder()
        .add_file("etc/os-release", b'ID="rhel"\nVERSION_ID="9.3"\nNAME="Red Hat"\n')
        .add_file("var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\x00")
        .build("gzip")
    )
    bare = LayerBuilder().add_file("bin/tool", b"\x7fELF").build("gzip")
    for layers, os_name, notes in (
        # a damaged database: no package listed, so no verdict, and the scan is partial
        ([rhel], "rhel:9", ["OS_CVES_UNAVAILABLE", "PARTIAL_SCAN_DATA"]),
        ([bare], "unknown", ["OS_UNAVAILABLE"]),
    ):
        pushed = push_image(registry, unique_repo("opaque"), "1", layers, image_config(layers))
        image = await (await scan(client, pushed.reference(registry))).json()
        assert image["scan"]["operatingSystem"] == os_name
        assert image["scan"]["components"] == []
        assert image["scan"]["notes"] == notes


async def test_a_caller_that_goes_away_does_not_stop_the_shared_scan(
    client: Any, registry: RunningRegistry
) -> None:
    pushed = push_debian(registry, unique_repo(), "gone")
    name = pushed.reference(registry)
    impatient = asyncio.create_task(scan(client, name))
    await asyncio.sleep(0)
    patient = asyncio.create_task(scan(client, name))
    await asyncio.sleep(0.01)
    impatient.cancel()  # the first client hangs up
    response = await patient
    assert response.status == 200
    assert (await response.json())["id"] == pushed.digest
    assert await metric(client, "analysed") == 1
