"""At start-up, images an earlier version stored are rebuilt; the replica is not ready until then,
and sorts are right afterwards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from app.config import Settings
from schemas.image import normalize_image
from storage import documents
from storage.layout import LayoutRebuild
from storage.query.search_keys import LAYOUT
from storage.query.sort_keys import SORT
from tests.api.test_images import assert_error
from tests.api.test_readiness import timed_readyz, until_readyz
from tests.support.images import component, image, vuln

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _old(name: str, cvss: float | None) -> dict[str, Any]:
    parts = [component("lib", "1", vuln("CVE-2024-1", cvss, "LOW"))] if cvss is not None else []
    doc = documents.to_stored(normalize_image(image(name, *parts)), last_updated=NOW)
    doc.pop(SORT)
    doc.pop(LAYOUT)
    return doc


OLD = [_old("docker.io/x/a:1", 5.0), _old("docker.io/x/b:1", None), _old("docker.io/x/c:1", 9.0)]


async def test_stored_images_are_rebuilt_before_the_replica_is_ready(
    app_client: Any, settings: Settings, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await db["images"].insert_many([dict(doc) for doc in OLD])
    allowed = asyncio.Event()
    rebuild_batch = LayoutRebuild.rebuild_batch

    async def when_allowed(self: LayoutRebuild) -> int:
        await allowed.wait()
        return await rebuild_batch(self)

    monkeypatch.setattr(LayoutRebuild, "rebuild_batch", when_allowed)
    client = await app_client(settings, db)
    await asyncio.sleep(0.2)
    status, body, _ = await timed_readyz(client)
    assert status == 503
    assert_error(body, 14, "images stored by an earlier version are being rebuilt")

    allowed.set()
    await until_readyz(client, 200, within_s=20)
    stored = [doc async for doc in db["images"].find({})]
    assert all(SORT in doc for doc in stored)
    # the sorts read the rebuilt keys: CVSS descending, the image without CVEs last
    params = {"pagination.sortOption.field": "CVSS", "pagination.sortOption.reversed": "true"}
    listed = await (await client.get("/v1/images", params=params)).json()
    assert [i["name"] for i in listed["images"]] == [
        "docker.io/x/c:1",
        "docker.io/x/a:1",
        "docker.io/x/b:1",
    ]
