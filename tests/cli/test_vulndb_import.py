"""`image-service vulndb import` as a user runs it, against the nx-27017 store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.cli import vulndb
from app.cli.local_store import LocalStore
from app.composition import build_images
from app.config import Settings
from schemas.image import normalize_image
from storage.vulnerabilities import generation_names
from tests.support.osv_feed import osv_record


def cli(store: LocalStore, database: str, *args: str) -> Any:
    env = {**os.environ, "MONGODB_URI": f"{store.uri}{database}"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app", "vulndb", "import", *args],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )


RECORDS = {
    "Debian/DSA-1.json": osv_record("DSA-1", "Debian:12", "openssl", "3.0.13-1"),
    "Debian/DSA-2.json": osv_record("DSA-2", "Debian:12", "curl", "7.88.1-10"),
    "PyPI/GHSA-3.json": osv_record("GHSA-3", "PyPI", "requests", "2.32.0"),
    # not matched: skipped
    "crates.io/RUSTSEC-4.json": osv_record("RUSTSEC-4", "crates.io", "y", "1.0"),
}


def write_dir(root: Path, records: dict[str, dict[str, Any]]) -> Path:
    for name, record in records.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
    return root


def write_zip(path: Path, records: dict[str, dict[str, Any]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, record in records.items():
            archive.writestr(name.rsplit("/", 1)[-1], json.dumps(record))
    return path


async def in_force(db: Any) -> Any:
    """The advisory collection of the feed generation in force."""
    state = await db["vulndb_state"].find_one({"_id": "feed"})
    return db[generation_names((state or {}).get("generation") or 0)[0]]


async def stored_ids(db: Any) -> set[str]:
    return {doc["_id"] async for doc in (await in_force(db)).find({}, {"_id": 1})}


async def test_import_a_directory_then_the_same_feed_as_a_zip(
    nx_store: LocalStore, database: str, mongo: Any, tmp_path: Path
) -> None:
    feed = write_dir(tmp_path / "feed", RECORDS)
    (feed / "Debian" / "broken.json").write_text("{not json")
    (feed / "README.md").write_text("not a record")
    first = cli(nx_store, database, str(feed))
    assert first.returncode == 0, first.stderr.decode()
    out = first.stdout.decode()
    assert "4 records, 3 advisories: 3 inserted, 0 updated, 0 unchanged, 0 deleted" in out
    assert "1 invalid files" in out
    assert "(changed)" in out
    assert "broken.json: not JSON" in first.stderr.decode()
    assert await stored_ids(mongo) == {
        "Debian:12|openssl|DSA-1",
        "Debian:12|curl|DSA-2",
        "PyPI|requests|GHSA-3",
    }
    state = await mongo["vulndb_state"].find_one({"_id": "feed"})
    assert state["version"] in out
    keys = [dict(i["key"]) async for i in await (await in_force(mongo)).list_indexes()]
    assert {"ecosystem": 1, "package": 1} in keys  # nx-27017 names indexes its own way

    archive = write_zip(tmp_path / "all.zip", RECORDS)
    again = cli(nx_store, database, "--no-progress", str(archive))
    assert again.returncode == 0, again.stderr.decode()
    assert "0 inserted, 0 updated, 3 unchanged, 0 deleted" in again.stdout.decode()
    assert f"feed {state['version']} (unchanged)" in again.stdout.decode()
    assert again.stderr == b""


async def test_a_changed_zip_updates_and_deletes(
    nx_store: LocalStore, database: str, mongo: Any, tmp_path: Path
) -> None:
    assert cli(nx_store, database, str(write_zip(tmp_path / "a.zip", RECORDS))).returncode == 0
    changed = {
        "Debian/DSA-1.json": osv_record("DSA-1", "Debian:12", "openssl", "3.0.14-1"),
        "Debian/DSA-5.json": osv_record("DSA-5", "Debian:12", "zlib", "1.3-1"),
    }
    result = cli(nx_store, database, "--no-progress", str(write_zip(tmp_path / "b.zip", changed)))
    assert result.returncode == 0, result.stderr.decode()
    assert "1 inserted, 1 updated, 0 unchanged, 1 deleted" in result.stdout.decode()
    assert "(changed)" in result.stdout.decode()
    # Debian:12 was replaced; PyPI was not in this import and stays
    assert await stored_ids(mongo) == {
        "Debian:12|openssl|DSA-1",
        "Debian:12|zlib|DSA-5",
        "PyPI|requests|GHSA-3",
    }


async def test_missing_path_and_nothing_importable_exit_2(
    nx_store: LocalStore, database: str, mongo: Any, tmp_path: Path
) -> None:
    missing = cli(nx_store, database, str(tmp_path / "nowhere.zip"))
    assert missing.returncode == 2
    assert b"does not exist" in missing.stderr
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.json").write_text("[1, 2]")
    (junk / "b.json").write_text('{"no": "id"}')
    nothing = cli(nx_store, database, "--no-progress", str(junk))
    assert nothing.returncode == 2
    assert b"no valid OSV record" in nothing.stderr
    assert b"Traceback" not in nothing.stderr
    not_a_zip = tmp_path / "feed.zip"
    not_a_zip.write_bytes(b"PK\x03\x04 truncated")
    broken = cli(nx_store, database, str(not_a_zip))
    assert broken.returncode == 2
    assert b"Traceback" not in broken.stderr
    assert await mongo["vulndb_state"].find_one({"_id": "feed"}) is None


async def test_stored_scans_are_rematched_after_a_changed_import_only(
    nx_store: LocalStore,
    database: str,
    mongo: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(mongodb_uri=nx_store.uri + database, database=database)
    images, _ = build_images(mongo, settings)
    digest = "sha256:" + "c" * 64
    component = {"name": "requests", "version": "2.25.0", "source": "PYTHON", "vulns": []}
    stored = normalize_image(
        {"id": digest, "scan": {"scanTime": "2024-01-01T00:00:00Z", "components": [component]}}
    )
    package = {"kind": "python", "ecosystems": ["PyPI"], "name": "requests", "version": "2.25.0"}
    stored["_scanner"] = {"feed": "", "packages": [package]}
    await images.upsert([stored])

    feed = write_dir(tmp_path / "feed", RECORDS)
    assert await vulndb.run_vulndb_import(settings, feed, progress=False) == 0
    assert "1 images rematched" in capsys.readouterr().out
    image = await images.get(digest)
    [vuln] = image["scan"]["components"][0]["vulns"]
    assert vuln["cve"] == "CVE-2024-3"
    assert vuln["fixedBy"] == "2.32.0"
    assert image["scan"]["dataSource"]["name"].startswith("OSV feed ")

    assert await vulndb.run_vulndb_import(settings, feed, progress=False) == 0
    assert "rematched" not in capsys.readouterr().out
