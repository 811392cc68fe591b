"""Re-matching: stored scans matched again against a new feed, from their recorded packages.

No registry is involved: our scanner records each component's advisory key (`_scanner`),
so a feed change reaches every stored image without pulling a layer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.services.images import ImageService
from app.services.ports import ImageNormalizer
from app.services.scan_results import Doc, PackageKey, rematched_scan
from app.services.vuln_matching import VulnerabilityMatcher
from storage.images import ImageRepository

logger = logging.getLogger(__name__)
# images per read and write: realistic images are around a MiB each
_BATCH = 20


class Rematcher:
    def __init__(
        self,
        *,
        images: ImageService,
        repo: ImageRepository,
        matcher: VulnerabilityMatcher,
        normalize: ImageNormalizer,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._images = images
        self._repo = repo
        self._matcher = matcher
        self._normalize = normalize
        self._clock = clock

    async def rematch(self, image_id: str, *, names: list[Doc] | None = None) -> bool:
        """Match one stored image's packages against the current feed and store it.

        False when the image is gone, was not scanned by us, or its scan no longer
        corresponds to the recorded packages (then only a fresh analysis helps).
        `names` go first in the image's names (the name just scanned).
        """
        return await self._rematch([image_id], names=names) == 1

    async def rematch_all(self) -> int:
        """Every stored image matched against another feed version; returns how many.

        A batch of images costs one read, one advisory lookup and one write, whatever
        its size.
        """
        self._matcher.forget_feed()
        feed = await self._matcher.feed()
        if not feed.version:
            return 0  # nothing imported yet: nothing to match against
        done = 0
        after = ""
        while ids := await self._repo.ids_scanned_with_other_feed(
            feed.version, after=after, limit=_BATCH
        ):
            done += await self._rematch(ids)
            after = ids[-1]
        if done:
            logger.info("re-matched %d stored images against feed %s", done, feed.version)
        return done

    async def _rematch(self, ids: list[str], *, names: list[Doc] | None = None) -> int:
        feed = await self._matcher.feed()
        work = []
        for image, state in await self._repo.get_for_rematch(ids):
            keys = [PackageKey.from_record(r) for r in state.packages]
            if len(keys) == len((image.get("scan") or {}).get("components") or []):
                work.append((image, state, keys))
        if not work:
            return 0
        matches = await self._matcher.match([key for _, _, keys in work for key in keys])
        stored = []
        start = 0
        for image, state, keys in work:
            mine = matches[start : start + len(keys)]
            start += len(keys)
            image["scan"] = rematched_scan(
                image["scan"], keys, mine, feed=feed, now=self._scan_time(image["scan"])
            )
            if names:
                seen = {n["fullName"] for n in names}
                image["names"] = names + [
                    n for n in image.get("names") or [] if n.get("fullName") not in seen
                ]
                image["name"] = names[0]
            normalized = self._normalize(image)
            normalized["_scanner"] = {"feed": feed.version, "packages": state.packages}
            stored.append(normalized)
        await self._images.upsert(stored)
        return len(stored)

    def _scan_time(self, scan: Doc) -> datetime:
        """Now, but never older than the stored scan: another replica's clock may run
        ahead, and the merge rules would keep the stale scan."""
        now = self._clock()
        stored_at = scan.get("scanTime")
        if isinstance(stored_at, datetime):
            stored_at = stored_at if stored_at.tzinfo else stored_at.replace(tzinfo=UTC)
            now = max(now, stored_at + timedelta(milliseconds=1))
        return now
