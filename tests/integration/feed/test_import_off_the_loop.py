"""A feed import reads and parses its files in a worker thread, a chunk at a time, so a server
that syncs its feed keeps answering requests meanwhile."""

from __future__ import annotations

import json
import threading
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.services import feed_import
from storage.mongo import open_client
from tests.support.osv_feed import osv_record

RECORDS = 600  # more than two chunks


def _record(n: int) -> dict[str, Any]:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    record = osv_record(f"DSA-{n}", "Debian:12", f"pkg{n}", "1.0")
    return record | {
        "aliases": [f"CVE-2024-{n}"],
        "severity": [{"type": "CVSS_V3", "score": vector}],
    }


@pytest.fixture
async def db(nx_store: Any) -> AsyncIterator[Any]:
    client = open_client(nx_store.uri, timeout_ms=5000)
    name = f"offloop_{uuid.uuid4().hex[:10]}"
    yield client[name]
    await client.drop_database(name)
    await client.close()


async def test_records_are_parsed_off_the_event_loop(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for n in range(RECORDS):
            out.writestr(f"DSA-{n}.json", json.dumps(_record(n)))
    parsed_in: set[int] = set()
    parse_record = feed_import.parse_record

    def watched_parse(record: dict[str, Any]) -> Any:
        parsed_in.add(threading.get_ident())
        return parse_record(record)

    monkeypatch.setattr(feed_import, "parse_record", watched_parse)
    loop_thread = threading.get_ident()

    report = await feed_import.import_feed(db, archive, progress=False)

    assert report.records == RECORDS
    assert report.counts is not None
    assert report.counts.inserted == RECORDS
    assert report.score_counts is not None
    assert report.score_counts.inserted == RECORDS  # the second pass, over the scores
    assert parsed_in
    assert loop_thread not in parsed_in
