"""Re-matching: stored scans matched again against a new feed, from their recorded packages.

No registry is involved: our scanner records each component's advisory key (`_scanner`),
so a feed change reaches every stored image without pulling a layer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.services.images import ImageService
from app.services.scan_results import PackageKey, rematched_scan
from app.services.vuln_matching import VulnerabilityMatcher
from schemas.image import normalize_image
from storage.images import ImageRepository

logger = logging.getLogger(__name__)
Doc = dict[str, Any]
_BATCH = 200


class Rematcher:
    def __init__(
        self,
        *,
        images: ImageService,
        repo: ImageRepository,
        matcher: VulnerabilityMatcher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._images = images
        self._repo = repo
        self._matcher = matcher
        self._clock = clock

    async def rematch(self, image_id: str, *, names: list[Doc] | None = None) -> bool:
        """Match one stored image's packages against the current feed and store it.

        False when the image is gone, was not scanned by us, or its scan no longer
        corresponds to the recorded packages (then only a fresh analysis helps).
        """
        found = await self._repo.get_for_rematch(image_id)
        if found is None:
            return False
        image, state = found
        scan = image.get("scan") or {}
        keys = [PackageKey.from_record(r) for r in state.packages]
        if len(keys) != len(scan.get("components") or []):
            return False
        feed = await self._matcher.feed()
        matches = await self._matcher.match(keys)
        # never older than the stored scan (another replica's clock may run ahead), or the
        # merge rules would keep the stale one
        now = self._clock()
        stored_at = scan.get("scanTime")
        if isinstance(stored_at, datetime):
            stored_at = stored_at if stored_at.tzinfo else stored_at.replace(tzinfo=UTC)
            now = max(now, stored_at + timedelta(milliseconds=1))
        image["scan"] = rematched_scan(scan, keys, matches, feed=feed, now=now)
        if names:
            seen = {n["fullName"] for n in names}
            image["names"] = names + [
                n for n in image.get("names") or [] if n.get("fullName") not in seen
            ]
            image["name"] = names[0]
        stored = normalize_image(image)
        stored["_scanner"] = {"feed": feed.version, "packages": state.packages}
        await self._images.upsert([stored])
        return True

    async def rematch_all(self) -> int:
        """Every stored image matched against another feed version; returns how many."""
        self._matcher.forget_feed()
        feed = await self._matcher.feed()
        done = 0
        if not feed.version:
            return 0  # nothing imported yet: nothing to match against
        handled: set[str] = set()  # each image once per call, whatever the store did
        while True:
            ids = await self._repo.ids_scanned_with_other_feed(
                feed.version, limit=_BATCH + len(handled)
            )
            ids = [i for i in ids if i not in handled]
            if not ids:
                if done:
                    logger.info("re-matched %d stored images against feed %s", done, feed.version)
                return done
            for image_id in ids:
                handled.add(image_id)
                # False: gone, or its scan no longer fits the record (only a rescan helps)
                if await self.rematch(image_id):
                    done += 1
