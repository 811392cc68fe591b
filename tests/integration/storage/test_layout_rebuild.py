"""Images stored in an older layout are rebuilt: once, without clobbering a concurrent write,
leaving a newer version's documents alone, by one replica while the others wait."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from app.workers.layout import run_layout_rebuild
from schemas.image import normalize_image
from storage import documents
from storage.layout import LayoutRebuild
from storage.leases import LeaseRepository
from storage.query.search_keys import LAYOUT, LAYOUT_VERSION
from storage.query.sort_keys import SORT, build_sort_doc
from tests.support.images import component, image, vuln

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _stored(i: int) -> dict[str, Any]:
    wire = image(
        f"docker.io/x/app{i}:1",
        component("openssl", f"3.0.{i}", vuln(f"CVE-2024-{i}", float(i % 10), "LOW")),
    )
    doc = documents.to_stored(normalize_image(wire), last_updated=NOW)
    doc["_rev"] = f"rev{i}"
    return doc


def _old(i: int, version: int | None = None) -> dict[str, Any]:
    """A document as an earlier version stored it: no sort keys, an older layout or none."""
    doc = _stored(i)
    doc.pop(SORT)
    doc.pop(LAYOUT)
    if version is not None:
        doc[LAYOUT] = version
    return doc


async def _all(db: Any) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc async for doc in db["images"].find({})}


async def test_old_documents_get_their_keys_and_the_version(db: Any) -> None:
    old = [_old(i) for i in range(5)] + [_old(i, version=1) for i in range(5, 8)]
    await db["images"].insert_many([*old, _stored(8)])
    rebuild = LayoutRebuild(db)
    assert await rebuild.stale() == 8
    assert not await rebuild.current()
    rebuilt = 0
    while count := await rebuild.rebuild_batch():
        rebuilt += count
    assert rebuilt == 8
    assert await rebuild.stale() == 0
    assert await rebuild.current()
    stored = await _all(db)
    for i in range(9):
        doc = stored[_stored(i)["_id"]]
        assert doc[LAYOUT] == LAYOUT_VERSION
        assert doc[SORT] == build_sort_doc(doc)
        assert doc[SORT]["cve_lo"] == f"cve-2024-{i}"
    # idempotent: nothing left to do, nothing rewritten
    revs = {d: doc["_rev"] for d, doc in (await _all(db)).items()}
    assert await rebuild.rebuild_batch() == 0
    assert {d: doc["_rev"] for d, doc in (await _all(db)).items()} == revs


async def test_a_document_written_meanwhile_is_not_clobbered(db: Any) -> None:
    await db["images"].insert_many([_old(0), _old(1)])
    concurrent = _stored(0)
    concurrent["riskScore"] = 42.0
    concurrent["_rev"] = "written-meanwhile"

    class Racing(LayoutRebuild):
        async def _read(self, flt: dict[str, Any]) -> list[dict[str, Any]]:
            docs = await super()._read(flt)
            # another writer (in the current layout) replaces one after it was read
            await db["images"].replace_one({"_id": concurrent["_id"]}, concurrent)
            return docs

    await Racing(db).rebuild_batch()
    stored = await _all(db)
    assert stored[concurrent["_id"]]["_rev"] == "written-meanwhile"
    assert stored[concurrent["_id"]]["riskScore"] == 42.0
    assert all(doc[LAYOUT] == LAYOUT_VERSION for doc in stored.values())


async def test_a_newer_versions_documents_are_left_alone(db: Any) -> None:
    newer = _stored(0)
    newer[LAYOUT] = LAYOUT_VERSION + 1
    newer.pop(SORT)
    await db["images"].insert_one(newer)
    rebuild = LayoutRebuild(db)
    assert await rebuild.current()
    assert await rebuild.rebuild_batch() == 0
    assert SORT not in (await _all(db))[newer["_id"]]


async def test_replicas_started_together_rebuild_once_and_all_get_ready(db: Any) -> None:
    await db["images"].insert_many([_old(i) for i in range(30)])
    done: list[str] = []
    leases = LeaseRepository(db)

    async def replica(owner: str) -> None:
        await run_layout_rebuild(
            LayoutRebuild(db), leases, owner=owner, done=lambda: done.append(owner), poll_s=0.05
        )

    await asyncio.wait_for(asyncio.gather(*(replica(f"r{i}") for i in range(3))), timeout=60)
    assert sorted(done) == ["r0", "r1", "r2"]
    assert await LayoutRebuild(db).stale() == 0
    # the lease was given back: another job run may take it at once
    assert await leases.acquire("layout-rebuild", "someone", ttl=timedelta(seconds=5), now=NOW)
