"""Upserts through the service on each store: merge rules, concurrent writers, lastUpdated."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.keys import IMAGES
from schemas.image import normalize_image
from storage.errors import DocumentTooLarge
from tests.support.images import component, image, vuln


async def test_concurrent_upserts_of_one_digest_lose_no_name(client: Any) -> None:
    service = client.server.app[IMAGES]
    writers = [
        service.upsert([normalize_image(image(f"docker.io/team/app:v{i}", seed="same"))])
        for i in range(12)
    ]
    await asyncio.gather(*writers)
    body = await (await client.get("/v1/images")).json()
    assert len(body["images"]) == 1
    full = await (await client.get(f"/v1/images/{body['images'][0]['id']}")).json()
    assert {n["fullName"] for n in full["names"]} == {f"docker.io/team/app:v{i}" for i in range(12)}


async def test_an_older_scan_does_not_replace_a_newer_one(client: Any) -> None:
    service = client.server.app[IMAGES]
    newer = image(
        "docker.io/a/b:1",
        component("x", "1", vuln("CVE-2024-1", 9.0, "CRITICAL")),
        scanned="2024-06-01T00:00:00Z",
    )
    older = image("docker.io/a/b:1", component("x", "0"), scanned="2024-01-01T00:00:00Z")
    first = await service.upsert([normalize_image(newer)])
    second = await service.upsert([normalize_image(older)])
    assert (first.inserted, first.updated, second.inserted, second.updated) == (1, 0, 0, 1)
    body = await (await client.get(f"/v1/images/{newer['id']}")).json()
    assert body["scan"]["components"][0]["version"] == "1"
    assert body["cves"] == 1
    assert body["scan"]["scanTime"] == "2024-06-01T00:00:00Z"


async def test_api_upserts_set_last_updated_to_now(client: Any) -> None:
    service = client.server.app[IMAGES]
    raw = image("docker.io/a/b:1", last_updated="2020-01-01T00:00:00Z")
    before = datetime.now(UTC)
    await service.upsert([normalize_image(raw)])
    body = await (await client.get(f"/v1/images/{raw['id']}")).json()
    stamp = datetime.fromisoformat(body["lastUpdated"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= stamp <= datetime.now(UTC)


async def test_an_image_too_large_to_store_is_refused_and_nothing_changes(client: Any) -> None:
    service = client.server.app[IMAGES]
    huge = image(
        "docker.io/a/huge:1",
        *(
            component(
                f"pkg{i}", "1", *(vuln(f"CVE-2024-{i}{j}", 5.0, "MODERATE") for j in range(40))
            )
            for i in range(400)
        ),
    )
    for component_ in huge["scan"]["components"]:
        for v in component_["vulns"]:
            v["summary"] = "x" * 1200
    with pytest.raises(DocumentTooLarge, match="too large to store"):
        await service.upsert([normalize_image(huge)])
    assert (await (await client.get("/v1/imagescount")).json()) == {"count": 0}
