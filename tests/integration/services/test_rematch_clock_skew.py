"""Re-matching when the stored scan was stamped by a clock running ahead of ours.

Replicas stamp `scan.scanTime` with their own clocks, and the merge rules keep the newer scan.
A re-match must still replace the stored scan, and `rematch_all()` must visit each image once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.composition import build_images
from app.config import Settings
from app.services.rematching import Rematcher
from app.services.vuln_matching import VulnerabilityMatcher
from schemas.image import normalize_image
from storage.cve_sightings import CveSightingRepository
from storage.vulnerabilities import VulnerabilityRepository

DIGEST = "sha256:" + "ab" * 32
SKEW = timedelta(seconds=1)


def settings() -> Settings:
    return Settings(mongodb_uri="mongodb://127.0.0.1:1/unused", database="unused")


async def setup(db: Any, scanned: datetime, *, count: int = 1) -> tuple[Rematcher, Any]:
    vulns = VulnerabilityRepository(db, max_time_ms=5000)
    await vulns.set_feed(imported_at=datetime.now(UTC))  # some feed other than "old-feed"
    images, repo = build_images(db, settings())
    digests = [DIGEST] + [f"sha256:{i:064x}" for i in range(1, count)]
    for digest in digests:
        await store(images, digest, scanned)
    # the re-matching process' clock is SKEW behind the replica that stored the scan
    rematcher = Rematcher(
        images=images,
        repo=repo,
        matcher=VulnerabilityMatcher(vulns, CveSightingRepository(db, max_time_ms=5000)),
        normalize=normalize_image,
        clock=lambda: datetime.now(UTC) - SKEW,
    )
    return rematcher, repo


async def store(images: Any, digest: str, scanned: datetime) -> None:
    image = normalize_image(
        {
            "id": digest,
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


async def test_rematch_all_visits_each_image_once(db: Any) -> None:
    rematcher, repo = await setup(db, datetime.now(UTC))
    assert await rematcher.rematch_all() == 1
    state = await repo.scanner_state(DIGEST)
    assert state is not None
    assert state.feed != "old-feed"
    assert await rematcher.rematch_all() == 0  # nothing left on another feed


async def test_rematch_does_not_claim_success_when_the_store_kept_the_old_scan(db: Any) -> None:
    rematcher, repo = await setup(db, datetime.now(UTC))
    done = await rematcher.rematch(DIGEST)
    state = await repo.scanner_state(DIGEST)
    assert state is not None
    assert done == (state.feed != "old-feed"), (
        f"rematch() returned {done} but the stored record is on feed {state.feed!r}"
    )


async def test_rematch_all_pages_through_every_image_once(db: Any) -> None:
    rematcher, repo = await setup(db, datetime.now(UTC), count=45)  # three batches
    assert await rematcher.rematch_all() == 45
    feed = await VulnerabilityRepository(db, max_time_ms=5000).get_feed()
    assert feed is not None
    assert await repo.ids_scanned_with_other_feed(feed.version, limit=100) == []
