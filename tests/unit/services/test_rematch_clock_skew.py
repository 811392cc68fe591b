"""Re-matching when the stored scan was stamped by a clock running ahead of ours.

Replicas stamp `scan.scanTime` with their own clocks, and the merge rules keep the newer scan.
A re-match must still replace the stored scan, and `rematch_all()` must visit each image once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.config import Settings
from app.resources import build_images
from app.services.rematching import Rematcher
from app.services.vuln_matching import VulnerabilityMatcher
from schemas.image import normalize_image
from storage.vulnerabilities import VulnerabilityRepository

DIGEST = "sha256:" + "ab" * 32
SKEW = timedelta(seconds=1)


def settings() -> Settings:
    return Settings(mongodb_uri="mongodb://127.0.0.1:1/unused", database="unused")


async def setup(db: Any, scanned: datetime) -> tuple[Rematcher, Any]:
    vulns = VulnerabilityRepository(db, max_time_ms=5000)
    await vulns.set_feed(imported_at=datetime.now(UTC))  # some feed other than "old-feed"
    images, repo = build_images(db, settings())
    image = normalize_image(
        {
            "id": DIGEST,
            "name": {"registry": "r", "remote": "a", "tag": "1", "fullName": "r/a:1"},
            "scan": {
                "scanTime": scanned.isoformat(),
                "components": [{"name": "zlib", "version": "1.0", "vulns": []}],
            },
        }
    )
    image["_scanner"] = {
        "feed": "old-feed",
        "packages": [
            {"kind": "dpkg", "ecosystems": ["Debian:12"], "name": "zlib", "version": "1.0"}
        ],
    }
    await images.upsert([image])
    # the re-matching process' clock is SKEW behind the replica that stored the scan
    rematcher = Rematcher(
        images=images,
        repo=repo,
        matcher=VulnerabilityMatcher(vulns),
        clock=lambda: datetime.now(UTC) - SKEW,
    )
    return rematcher, repo


async def test_rematch_all_visits_each_image_once(db: Any) -> None:
    rematcher, _ = await setup(db, datetime.now(UTC))
    calls = 0
    original = rematcher.rematch

    async def counting(image_id: str, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        return await original(image_id, **kwargs)

    rematcher.rematch = counting  # type: ignore[method-assign]
    await rematcher.rematch_all()
    assert calls == 1, f"one stored image re-matched {calls} times in one rematch_all()"


async def test_rematch_does_not_claim_success_when_the_store_kept_the_old_scan(db: Any) -> None:
    rematcher, repo = await setup(db, datetime.now(UTC))
    done = await rematcher.rematch(DIGEST)
    state = await repo.scanner_state(DIGEST)
    assert state is not None
    assert done == (state.feed != "old-feed"), (
        f"rematch() returned {done} but the stored record is on feed {state.feed!r}"
    )
