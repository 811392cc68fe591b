"""`image-service vulndb sync` as a user runs it, against the nx-27017 store and an HTTP server on
loopback serving osv.dev's layout (tests/support/osv_feed.py)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from app.cli.local_store import LocalStore
from app.composition import build_images
from app.config import Settings
from schemas.image import normalize_image
from storage.vulnerabilities import VulnerabilityRepository, generation_names
from tests.support.osv_feed import FeedServer, corrupt_member, osv_record, zip_of

DEBIAN = [
    osv_record("DSA-1", "Debian:12", "openssl", "3.0.13-1"),
    osv_record("DSA-2", "Debian:12", "curl", "7.88.1-10"),
]
PYPI = [osv_record("GHSA-3", "PyPI", "requests", "2.32.0")]
FIRST_IDS = {"Debian:12|openssl|DSA-1", "Debian:12|curl|DSA-2", "PyPI|requests|GHSA-3"}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
async def feed(aiohttp_server: Any) -> tuple[FeedServer, str]:
    served = FeedServer()
    served.publish("Debian", zip_of(DEBIAN))
    served.publish("PyPI", zip_of(PYPI))
    server = await aiohttp_server(served.app(), host="127.0.0.1")
    return served, str(server.make_url("")).rstrip("/")


def environment(store: LocalStore, database: str, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "MONGODB_URI": f"{store.uri}{database}",
        "IMAGE_SERVICE_VULNDB_URL": url,
        "IMAGE_SERVICE_VULNDB_ECOSYSTEMS": "Debian,PyPI",
    }


async def start(store: LocalStore, database: str, url: str, *args: str) -> Any:
    """The command as a child process; the test's event loop keeps serving the feed meanwhile."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "vulndb",
        "sync",
        "--no-progress",
        *args,
        env=environment(store, database, url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def sync(store: LocalStore, database: str, url: str, *args: str) -> Run:
    process = await start(store, database, url, *args)
    async with asyncio.timeout(300):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


async def feed_state(db: Any) -> dict[str, Any]:
    state = await db["vulndb_state"].find_one({"_id": "feed"})
    assert state is not None
    return dict(state)


async def stored_ids(db: Any) -> set[str]:
    """The advisories of the feed generation in force."""
    state = await feed_state(db)
    collection = db[generation_names(state.get("generation") or 0)[0]]
    return {doc["_id"] async for doc in collection.find({}, {"_id": 1})}


async def test_the_first_sync_imports_and_the_second_downloads_nothing(
    nx_store: LocalStore, database: str, mongo: Any, feed: tuple[FeedServer, str]
) -> None:
    served, url = feed
    first = await sync(nx_store, database, url)
    assert first.returncode == 0, first.stderr
    debian_sha = hashlib.sha256(served.archives["Debian"]).hexdigest()
    size = len(served.archives["Debian"])
    assert f"Debian: ok, {size} bytes, sha256 {debian_sha}" in first.stdout
    summary = first.stdout.splitlines()[-1]
    assert summary.startswith("vulndb sync: 2 ok, 0 not modified, 0 failed; vulndb: 3 records")
    assert "(changed)" in summary
    assert await stored_ids(mongo) == FIRST_IDS
    recorded = await mongo["vulndb_state"].find_one({"_id": "sync|Debian"})
    assert recorded["archive"]["sha256"] == debian_sha
    assert recorded["archive"]["etag"] == served.etag("Debian")
    assert [(a.ecosystem, a.if_none_match, a.status) for a in served.asked] == [
        ("Debian", None, 200),
        ("PyPI", None, 200),
    ]
    before = await feed_state(mongo)

    served.asked.clear()
    second = await sync(nx_store, database, url)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        "Debian: not-modified",
        "PyPI: not-modified",
        f"vulndb sync: 0 ok, 2 not modified, 0 failed; feed {before['version']} (unchanged)",
    ]
    assert [(a.ecosystem, a.if_none_match, a.status) for a in served.asked] == [
        ("Debian", served.etag("Debian"), 304),
        ("PyPI", served.etag("PyPI"), 304),
    ]
    assert await feed_state(mongo) == before  # not even re-imported as the same version


async def test_a_changed_archive_is_imported_and_stored_images_follow(
    nx_store: LocalStore, database: str, mongo: Any, feed: tuple[FeedServer, str]
) -> None:
    served, url = feed
    settings = Settings(mongodb_uri=nx_store.uri + database, database=database)
    images, _ = build_images(mongo, settings)
    digest = "sha256:" + "d" * 64
    component = {"name": "requests", "version": "2.25.0", "source": "PYTHON", "vulns": []}
    stored = normalize_image(
        {"id": digest, "scan": {"scanTime": "2024-01-01T00:00:00Z", "components": [component]}}
    )
    package = {"kind": "python", "ecosystems": ["PyPI"], "name": "requests", "version": "2.25.0"}
    stored["_scanner"] = {"feed": "", "packages": [package]}
    await images.upsert([stored])
    first = await sync(nx_store, database, url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.rstrip().endswith("; 1 images rematched")
    [vuln] = (await images.get(digest))["scan"]["components"][0]["vulns"]
    assert vuln["fixedBy"] == "2.32.0"

    served.publish("PyPI", zip_of([osv_record("GHSA-3", "PyPI", "requests", "2.31.0")]))
    changed = await sync(nx_store, database, url)
    assert changed.returncode == 0, changed.stderr
    lines = changed.stdout.splitlines()
    assert lines[0] == "Debian: not-modified"
    assert lines[1].startswith("PyPI: ok, ")
    assert "vulndb sync: 1 ok, 1 not modified, 0 failed; vulndb: 1 records" in lines[-1]
    assert "0 inserted, 1 updated, 0 unchanged, 0 deleted" in lines[-1]
    assert lines[-1].endswith("(changed); 1 images rematched")
    [vuln] = (await images.get(digest))["scan"]["components"][0]["vulns"]
    assert vuln["fixedBy"] == "2.31.0"
    assert await stored_ids(mongo) == FIRST_IDS  # Debian's advisories were left alone


@pytest.mark.parametrize("damage", ["cut off half-way", "a corrupt member"])
async def test_a_damaged_download_leaves_the_previous_feed_in_force(
    nx_store: LocalStore, database: str, mongo: Any, feed: tuple[FeedServer, str], damage: str
) -> None:
    served, url = feed
    assert (await sync(nx_store, database, url)).returncode == 0
    before = await feed_state(mongo)
    # complete, this archive would replace DSA-2 by DSA-5: nothing of it may be applied
    changed = zip_of([DEBIAN[0], osv_record("DSA-5", "Debian:12", "zlib", "1.3-1")])
    if damage == "cut off half-way":
        served.publish("Debian", changed)
        served.cut.add("Debian")
    else:
        served.publish("Debian", corrupt_member(changed))
    served.publish("PyPI", zip_of([*PYPI, osv_record("GHSA-4", "PyPI", "urllib3", "1.26.18")]))

    damaged = await sync(nx_store, database, url)
    assert damaged.returncode == 1
    expected = "ended after" if damage == "cut off half-way" else "the archive is corrupt: DSA-1"
    [failure] = [line for line in damaged.stderr.splitlines() if line.startswith("Debian: ")]
    assert failure.startswith("Debian: failed: "), damaged.stderr
    assert expected in failure
    assert "vulndb sync: 1 ok, 0 not modified, 1 failed" in damaged.stdout
    # PyPI's archive arrived whole and is in force; Debian's stored advisories are untouched
    assert await stored_ids(mongo) == FIRST_IDS | {"PyPI|urllib3|GHSA-4"}
    recorded = await mongo["vulndb_state"].find_one({"_id": "sync|Debian"})
    assert recorded["outcome"] == "failed"
    assert recorded["archive"]["sha256"] == hashlib.sha256(zip_of(DEBIAN)).hexdigest()

    # repaired upstream: the next sync asks with the validators of what it imported last
    served.cut.clear()
    served.publish("Debian", changed)
    served.asked.clear()
    repaired = await sync(nx_store, database, url)
    assert repaired.returncode == 0, repaired.stderr
    assert served.asked[0].status == 200
    assert served.asked[0].if_none_match is not None
    assert "Debian:12|zlib|DSA-5" in await stored_ids(mongo)
    assert (await feed_state(mongo))["version"] != before["version"]


async def test_killed_mid_import_the_old_feed_keeps_serving(
    nx_store: LocalStore, database: str, mongo: Any, feed: tuple[FeedServer, str]
) -> None:
    served, url = feed
    assert (await sync(nx_store, database, url)).returncode == 0
    before = await feed_state(mongo)
    generations = await mongo["vulndb_state"].find_one({"_id": "generations"})
    many = [osv_record(f"GHSA-{n:05d}", "PyPI", f"package-{n}", "1.0") for n in range(8000)]
    served.publish("PyPI", zip_of(many))

    process = await start(nx_store, database, url)
    try:
        # the import's own generation fills up; kill the command well before it is complete
        staging = generation_names(generations["last"] + 1)[0]
        async with asyncio.timeout(120):
            while await mongo[staging].count_documents({}) < 1000:
                assert process.returncode is None, "the sync ended before it could be killed"
                await asyncio.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        await process.wait()
    assert process.returncode == -signal.SIGKILL
    assert await feed_state(mongo) == before
    assert await stored_ids(mongo) == FIRST_IDS
    repo = VulnerabilityRepository(mongo, max_time_ms=5000)
    found = await repo.find_for(["PyPI"], ["package-1", "requests"])
    assert [d["osv_id"] for d in found] == ["GHSA-3"]

    # the next sync starts over (PyPI was never recorded as imported) and completes
    again = await sync(nx_store, database, url)
    assert again.returncode == 0, again.stderr
    assert "PyPI: ok" in again.stdout
    assert len(await stored_ids(mongo)) == 8002
    assert await mongo[staging].count_documents({}) == 0  # the killed import's leftovers


async def test_bad_url_unknown_ecosystem_and_unreachable_server(
    nx_store: LocalStore, database: str, mongo: Any, feed: tuple[FeedServer, str]
) -> None:
    _, url = feed
    bad = await sync(nx_store, database, url, "--url", "http://user:secret@127.0.0.1:1")
    assert bad.returncode == 2
    assert "must not carry credentials" in bad.stderr
    assert "secret" not in bad.stderr

    missing = await sync(nx_store, database, url, "--ecosystem", "Rocky Linux")
    assert missing.returncode == 1
    assert f"Rocky Linux: failed: {url}/Rocky%20Linux/all.zip answered HTTP 404" in missing.stderr
    assert "vulndb sync: 0 ok, 0 not modified, 1 failed; feed (none) (unchanged)" in missing.stdout
    assert await mongo["vulndb_state"].find_one({"_id": "feed"}) is None

    closed = await sync(nx_store, database, url, "--url", "http://127.0.0.1:1")
    assert closed.returncode == 1
    assert "Debian: failed: http://127.0.0.1:1/Debian/all.zip could not be fetched" in closed.stderr
    assert "Traceback" not in closed.stderr
