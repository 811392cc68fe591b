"""WatchImage scans and remembers a name; the rescan loop follows tags that move, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.cli.vulndb import import_feed
from tests.scanner.scan_support import eventually, load_feed, metric, scan_settings, unique_repo
from tests.support.oci.samples import FEED_V1, FEED_V2, push_alpine, push_debian, write_feed
from tests.support.registry import RunningRegistry


async def scan(client: Any, name: str) -> Any:
    return await client.post("/v1/images/scan", json={"imageName": name})


@pytest.fixture
async def client(nx_db: Any, registry: RunningRegistry, app_client: Any) -> Any:
    return await app_client(scan_settings(registry.host), nx_db)


async def watched(client: Any) -> list[dict[str, Any]]:
    body = await (await client.get("/v1/watchedimages")).json()
    return list(body["watchedImages"])


async def test_watch_scans_stores_and_lists_the_name(
    client: Any, registry: RunningRegistry
) -> None:
    pushed = push_alpine(registry, unique_repo("watched/app"), "1.0")
    name = pushed.reference(registry)
    response = await client.post("/v1/watchedimages", json={"name": name})
    assert response.status == 200
    assert await response.json() == {
        "normalizedName": name,
        "errorType": "NO_ERROR",
        "errorMessage": "",
    }
    image = await (await client.get(f"/v1/images/{pushed.digest}")).json()
    assert image["scan"]["operatingSystem"] == "alpine:3.19"
    [entry] = await watched(client)
    assert entry["name"] == name
    assert entry["digest"] == pushed.digest
    assert entry["lastChecked"].endswith("Z")  # stored as a date, answered in RFC 3339

    # watching again scans again (stored copies are ignored) and stays one entry
    await client.post("/v1/watchedimages", json={"name": name})
    assert len(await watched(client)) == 1
    assert await metric(client, "analysed") == 2

    assert (await (await client.delete("/v1/watchedimages", params={"name": name})).json()) == {}
    assert await watched(client) == []
    assert (await client.get(f"/v1/images/{pushed.digest}")).status == 200  # image stays
    again = await client.delete("/v1/watchedimages", params={"name": name})
    assert again.status == 200


async def test_watch_reports_scan_failures_in_the_answer(
    client: Any, registry: RunningRegistry
) -> None:
    response = await client.post(
        "/v1/watchedimages", json={"name": f"{registry.host}/nobody/here:1"}
    )
    assert response.status == 200
    body = await response.json()
    assert body["errorType"] == "SCAN_FAILED"
    assert body["errorMessage"].startswith("failed to scan image: ")
    assert body["normalizedName"] == ""
    assert await watched(client) == []


async def test_watch_refuses_digests(client: Any, registry: RunningRegistry) -> None:
    pushed = push_alpine(registry, unique_repo(), "1")
    name = pushed.reference(registry, by_digest=True)
    body = await (await client.post("/v1/watchedimages", json={"name": name})).json()
    assert body["errorType"] == "INVALID_IMAGE_NAME"
    assert body["errorMessage"] == (
        f"name {name} contains a digest, but watch does not handle images with digests"
    )


async def test_two_replicas_rescan_a_moved_tag_once(
    nx_db: Any, app_client: Any, registry: RunningRegistry
) -> None:
    settings = scan_settings(registry.host).with_overrides(
        reprocess_interval_s=0.4, lease_ttl_s=2.0
    )
    first = await app_client(settings, nx_db)
    second = await app_client(settings, nx_db)
    repo = unique_repo("moving/tag")
    old = push_alpine(registry, repo, "stable")
    name = old.reference(registry)
    body = await (await first.post("/v1/watchedimages", json={"name": name})).json()
    assert body["errorType"] == "NO_ERROR"

    # a few rounds pass with the tag where it was: checks, but no rescans
    async def checked_again() -> bool:
        [entry] = await watched(first)
        return bool(entry["lastChecked"]) and entry["lastChecked"] != initial["lastChecked"]

    [initial] = await watched(first)
    await eventually(checked_again)
    assert await metric(first, "watched_rescans") + await metric(second, "watched_rescans") == 0

    new = push_debian(registry, repo, "stable")

    async def moved() -> bool:
        [entry] = await watched(second)
        return entry["digest"] == new.digest

    await eventually(moved)
    [checked] = await watched(second)
    assert checked["lastChecked"].endswith("Z")  # a check's time is a date too
    image = await (await second.get(f"/v1/images/{new.digest}")).json()
    assert image["scan"]["operatingSystem"] == "debian:12"
    assert {n["fullName"] for n in image["names"]} == {name}

    # let more rounds run on both replicas: still exactly one rescan of the moved tag
    async def checked_after_move() -> bool:
        [entry] = await watched(first)
        return entry["lastChecked"] > moved_at

    [entry] = await watched(first)
    moved_at = entry["lastChecked"]
    await eventually(checked_after_move)
    rescans = await metric(first, "watched_rescans") + await metric(second, "watched_rescans")
    assert rescans == 1


async def test_the_leader_rematches_images_an_import_left_behind(
    nx_db: Any, app_client: Any, registry: RunningRegistry, tmp_path: Path
) -> None:
    await load_feed(nx_db, tmp_path / "feed", FEED_V1)
    settings = scan_settings(registry.host).with_overrides(reprocess_interval_s=0.4)
    client = await app_client(settings, nx_db)
    pushed = push_debian(registry, unique_repo(), "left")
    assert (await scan(client, pushed.reference(registry))).status == 200

    # the feed changes, but the import stops before re-matching (no rematch here)
    write_feed(tmp_path / "feed", FEED_V2)
    assert (await import_feed(nx_db, tmp_path / "feed", progress=False)).changed

    async def rematched() -> bool:
        image = await (await client.get(f"/v1/images/{pushed.digest}")).json()
        return bool(image["cves"] == 5)

    await eventually(rematched)
    assert await metric(client, "layers_downloaded") == 4
