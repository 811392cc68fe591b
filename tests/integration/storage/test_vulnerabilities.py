"""The advisory store: imports by content hash, deletion per ecosystem, feed version, lookups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from storage.cve_sightings import CveSightingRepository
from storage.mongo import ensure_indexes
from storage.vulnerabilities import FeedChanged, ImportCounts, VulnerabilityRepository

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 1, 2, tzinfo=UTC)


def adv(ecosystem: str, package: str, osv_id: str, fixed: str = "2.0") -> dict[str, Any]:
    return {
        "ecosystem": ecosystem,
        "package": package,
        "osv_id": osv_id,
        "cve": osv_id,
        "aliases": [],
        "summary": "",
        "link": f"https://osv.dev/vulnerability/{osv_id}",
        "published": None,
        "modified": "2024-01-01T00:00:00Z",
        "cvss_vectors": {"v3": None, "v2": None, "v4": None},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        "versions": [],
        "severity_hint": None,
    }


FEED = [
    adv("Debian:12", "openssl", "CVE-1"),
    adv("Debian:12", "openssl", "CVE-2"),
    adv("Debian:12", "curl", "CVE-3"),
    adv("Alpine:v3.19", "openssl", "CVE-1"),
    adv("PyPI", "requests", "GHSA-1"),
]


def repo(db: Any) -> VulnerabilityRepository:
    return VulnerabilityRepository(db, max_time_ms=5000)


async def ids(db: Any) -> set[str]:
    return {doc["_id"] async for doc in db["vulnerabilities"].find({}, {"_id": 1})}


async def test_first_import_inserts_and_records_the_feed(db: Any) -> None:
    vulns = repo(db)
    assert await vulns.get_feed() is None
    counts = await vulns.apply_import(iter(FEED))
    assert counts == ImportCounts(inserted=5, updated=0, unchanged=0, deleted=0)
    assert "Debian:12|openssl|CVE-1" in await ids(db)
    state = await vulns.set_feed(imported_at=T1)
    assert len(state.version) == 64
    assert state.ecosystems == {"Debian:12": 3, "Alpine:v3.19": 1, "PyPI": 1}
    stored = await vulns.get_feed()
    assert stored == state


async def test_identical_reimport_changes_nothing_and_keeps_the_version(db: Any) -> None:
    vulns = repo(db)
    await vulns.apply_import(FEED)
    first = await vulns.set_feed(imported_at=T1)
    counts = await vulns.apply_import(reversed(FEED))
    assert counts == ImportCounts(inserted=0, updated=0, unchanged=5, deleted=0)
    second = await vulns.set_feed(imported_at=T2)
    assert second.version == first.version
    feed = await vulns.get_feed()
    assert feed is not None
    assert feed.imported_at == T2


async def test_a_changed_record_is_updated_and_changes_the_version(db: Any) -> None:
    vulns = repo(db)
    await vulns.apply_import(FEED)
    first = await vulns.set_feed(imported_at=T1)
    changed = [*FEED[:1], adv("Debian:12", "openssl", "CVE-2", fixed="3.0"), *FEED[2:]]
    counts = await vulns.apply_import(changed)
    assert counts == ImportCounts(inserted=0, updated=1, unchanged=4, deleted=0)
    second = await vulns.set_feed(imported_at=T2)
    assert second.version != first.version
    found = await vulns.find_for(["Debian:12"], ["openssl"])
    (doc,) = [d for d in found if d["osv_id"] == "CVE-2"]
    assert doc["ranges"][0]["events"][1] == {"fixed": "3.0"}
    # back to the first content: back to the first version
    await vulns.apply_import(FEED)
    assert (await vulns.set_feed(imported_at=T2)).version == first.version


async def test_records_dropped_from_an_imported_ecosystem_are_deleted(db: Any) -> None:
    vulns = repo(db)
    await vulns.apply_import(FEED)
    # a Debian:12 feed without CVE-2 and curl; Alpine and PyPI are not in this import
    counts = await vulns.apply_import([adv("Debian:12", "openssl", "CVE-1")])
    assert counts == ImportCounts(inserted=0, updated=0, unchanged=1, deleted=2)
    assert await ids(db) == {
        "Debian:12|openssl|CVE-1",
        "Alpine:v3.19|openssl|CVE-1",
        "PyPI|requests|GHSA-1",
    }
    state = await vulns.set_feed(imported_at=T1)
    assert state.ecosystems == {"Debian:12": 1, "Alpine:v3.19": 1, "PyPI": 1}


async def test_an_ecosystem_named_without_records_is_emptied(db: Any) -> None:
    vulns = repo(db)
    await vulns.apply_import(FEED)
    covered: set[str] = set()

    def feed() -> Any:  # the covered set is filled while the import reads the stream
        yield adv("PyPI", "requests", "GHSA-1")
        covered.add("Alpine:v3.19")

    counts = await vulns.apply_import(feed(), covered)
    assert counts.deleted == 1
    assert "Alpine:v3.19|openssl|CVE-1" not in await ids(db)
    assert "Debian:12|curl|CVE-3" in await ids(db)


async def test_large_imports_are_written_in_batches(db: Any) -> None:
    vulns = repo(db)
    many = [adv("npm", f"pkg{i}", f"GHSA-{i}") for i in range(1203)]
    assert (await vulns.apply_import(many)).inserted == 1203
    again = await vulns.apply_import(many[:1100])
    assert again == ImportCounts(inserted=0, updated=0, unchanged=1100, deleted=103)
    found = await vulns.find_for(["npm"], [f"pkg{i}" for i in range(0, 1203, 2)])
    assert len(found) == 550


async def test_find_for_filters_on_ecosystem_and_package(db: Any) -> None:
    vulns = repo(db)
    await ensure_indexes(db)
    await vulns.apply_import(FEED)
    found = await vulns.find_for(["Debian:12", "PyPI"], ["openssl", "requests", "zlib"])
    assert sorted(d["_id"] for d in found) == [
        "Debian:12|openssl|CVE-1",
        "Debian:12|openssl|CVE-2",
        "PyPI|requests|GHSA-1",
    ]
    assert all("hash" not in d for d in found)
    assert found[0]["ranges"]
    assert await vulns.find_for([], ["openssl"]) == []
    assert await vulns.find_for(["Debian:13"], ["openssl"]) == []


async def feed_collections(db: Any) -> set[str]:
    """Names of the advisory collections that hold documents."""
    names = {f"vulnerabilities_{n}" for n in range(8)} | {"vulnerabilities"}
    return {name for name in names if await db[name].count_documents({}, limit=1)}


async def test_an_import_in_progress_is_invisible_until_set_feed(db: Any) -> None:
    vulns = repo(db)
    await vulns.begin_import()
    await vulns.apply_import(iter(FEED))
    done = await vulns.set_feed(imported_at=T1)
    await vulns.begin_import()
    counts = await vulns.apply_import([adv("Debian:12", "openssl", "CVE-1", fixed="3.0")])
    assert counts == ImportCounts(inserted=0, updated=1, unchanged=0, deleted=2)
    # readers still see the feed in force, and its version
    assert await vulns.get_feed() == done
    found = await vulns.find_for(["Debian:12"], ["openssl", "curl"])
    assert sorted(d["_id"] for d in found) == [
        "Debian:12|curl|CVE-3",
        "Debian:12|openssl|CVE-1",
        "Debian:12|openssl|CVE-2",
    ]
    assert next(d for d in found if d["osv_id"] == "CVE-1")["ranges"] == FEED[0]["ranges"]
    # an import given up leaves nothing behind
    await vulns.abort_import()
    assert await vulns.get_feed() == done
    assert len(await feed_collections(db)) == 1
    # finishing puts the whole import in force at once
    await vulns.begin_import()
    await vulns.apply_import([adv("Debian:12", "openssl", "CVE-1", fixed="3.0")])
    after = await vulns.set_feed(imported_at=T2)
    assert after.version != done.version
    assert after.ecosystems == {"Debian:12": 1, "Alpine:v3.19": 1, "PyPI": 1}
    [openssl] = await vulns.find_for(["Debian:12"], ["openssl", "curl"])
    assert openssl["ranges"][0]["events"][1] == {"fixed": "3.0"}
    # the generation replaced stays for lookups under way; the one before it is dropped
    assert len(await feed_collections(db)) == 2
    await vulns.begin_import()
    await vulns.apply_import(FEED)
    assert (await vulns.set_feed(imported_at=T2)).version == done.version
    assert len(await feed_collections(db)) == 2


async def test_of_two_imports_begun_on_the_same_feed_the_second_to_finish_fails(db: Any) -> None:
    first, second = repo(db), repo(db)
    await first.apply_import(FEED)
    before = await first.set_feed(imported_at=T1)  # a feed from before generations
    await first.begin_import()
    await second.begin_import()
    await first.apply_import([adv("PyPI", "requests", "GHSA-1", fixed="3.0")])
    await second.apply_import([adv("PyPI", "requests", "GHSA-2")])
    won = await first.set_feed(imported_at=T2)
    assert won.version != before.version
    with pytest.raises(FeedChanged):
        await second.set_feed(imported_at=T2)
    assert await first.get_feed() == won
    [requests] = await first.find_for(["PyPI"], ["requests"])
    assert requests["osv_id"] == "GHSA-1"
    # the loser's generation is gone, the winner's and the one it replaced remain
    assert len(await feed_collections(db)) == 2


def score(cve: str, osv_id: str, rank: int, v3: str, *ecosystems: str) -> dict[str, Any]:
    return {
        "cve": cve,
        "osv_id": osv_id,
        "rank": rank,
        "cvss_vectors": {"v3": v3, "v2": None, "v4": None},
        "ecosystems": list(ecosystems),
    }


async def test_scores_prefer_the_cves_own_record_and_follow_imports(db: Any) -> None:
    vulns = repo(db)
    rows = [
        score("CVE-1", "GHSA-1", 1, "ghsa-vector", "PyPI"),
        score("CVE-1", "CVE-1", 0, "nvd-vector"),
        score("CVE-2", "GHSA-2", 1, "ghsa-2", "npm"),
    ]
    assert await vulns.apply_scores(rows, {"PyPI", "npm", ""}) == ImportCounts(3, 0, 0, 0)
    before = (await vulns.set_feed(imported_at=T1)).version
    best = await vulns.scores_for(["CVE-1", "CVE-2", "CVE-3"])
    assert {cve: row["osv_id"] for cve, row in best.items()} == {
        "CVE-1": "CVE-1",
        "CVE-2": "GHSA-2",
    }
    assert best["CVE-1"]["cvss_vectors"]["v3"] == "nvd-vector"
    # a later import of npm alone drops npm's rows it no longer holds, and nothing else
    assert await vulns.apply_scores([], {"npm"}) == ImportCounts(0, 0, 0, 1)
    assert set(await vulns.scores_for(["CVE-1", "CVE-2"])) == {"CVE-1"}
    # an import without any repository-only record leaves the NVD rows alone
    assert await vulns.apply_scores([rows[0]], {"PyPI"}) == ImportCounts(0, 0, 1, 0)
    assert (await vulns.scores_for(["CVE-1"]))["CVE-1"]["osv_id"] == "CVE-1"
    assert (await vulns.set_feed(imported_at=T2)).version != before  # scores are in the version


async def test_first_seen_is_kept_from_the_first_sighting(db: Any) -> None:
    sightings = CveSightingRepository(db, max_time_ms=5000)
    assert await sightings.first_seen(["CVE-1", "CVE-2"], now=T1) == {"CVE-1": T1, "CVE-2": T1}
    assert await sightings.first_seen(["CVE-2", "CVE-3"], now=T2) == {"CVE-2": T1, "CVE-3": T2}
