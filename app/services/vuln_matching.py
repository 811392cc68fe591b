"""Components matched against the stored OSV advisories, and which feed that was."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from app.scanner.vulns.lookup import (
    MatchInput,
    index_advisories,
    lookup_keys,
    match_packages,
    unscored_cves,
)
from app.scanner.vulns.matching import parse_version
from app.scanner.vulns.osv import format_utc
from app.services.scan_results import ComponentMatch, Feed, PackageKey
from storage.cve_sightings import CveSightingRepository
from storage.vulnerabilities import VulnerabilityRepository

# How long a replica trusts its idea of the feed version before asking the database again.
FEED_TTL_S = 5.0


class VulnerabilityMatcher:
    def __init__(
        self,
        repo: VulnerabilityRepository,
        sightings: CveSightingRepository,
        *,
        feed_ttl_s: float = FEED_TTL_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self._sightings = sightings
        self._feed_ttl_s = feed_ttl_s
        self._clock = clock
        self._feed: tuple[float, Feed] | None = None

    async def feed(self) -> Feed:
        """The feed stored now (cached a few seconds); version "" before any import."""
        now = time.monotonic()
        if self._feed is not None and now - self._feed[0] < self._feed_ttl_s:
            return self._feed[1]
        state = await self._repo.get_feed()
        feed = (
            Feed("", frozenset())
            if state is None
            else Feed(state.version, frozenset(n for n, c in state.ecosystems.items() if c))
        )
        self._feed = (now, feed)
        return feed

    def forget_feed(self) -> None:
        self._feed = None

    async def _stamp_first_seen(
        self, found: Sequence[Sequence[dict[str, Any]]], now: datetime
    ) -> None:
        """`firstSystemOccurrence`: when any image was first seen with the CVE (now, for a CVE
        never seen before)."""
        cves = {vuln["cve"] for vulns in found for vuln in vulns}
        if not cves:
            return
        first = await self._sightings.first_seen(cves, now=now)
        for vulns in found:
            for vuln in vulns:
                if vuln["cve"] in first:
                    vuln["firstSystemOccurrence"] = format_utc(first[vuln["cve"]])

    async def match(self, keys: Sequence[PackageKey]) -> list[ComponentMatch]:
        """Each component's vulnerabilities (wire-shaped) and the version fixing them all."""
        feed = await self.feed()
        inputs = [MatchInput(feed.expand(k.ecosystems), k.name, k.version) for k in keys]
        ecosystems, names = lookup_keys(inputs)
        advisories = await self._repo.find_for(ecosystems, names) if names else []
        unscored = unscored_cves(advisories)
        rows = await self._repo.scores_for(unscored) if unscored else {}
        borrowed = {cve: row["cvss_vectors"] for cve, row in rows.items()}
        now = self._clock()
        found = match_packages(inputs, index_advisories(advisories), now=now, borrowed=borrowed)
        await self._stamp_first_seen(found, now)
        return [
            ComponentMatch(vulns, _fixing_version(vulns, key.ecosystems))
            for vulns, key in zip(found, keys, strict=True)
        ]


def _fixing_version(vulns: Sequence[dict[str, object]], ecosystems: Sequence[str]) -> str:
    """The highest fix among the vulnerabilities: upgrading to it fixes every fixable one."""
    fixes = {str(v["fixedBy"]) for v in vulns if v.get("fixedBy")}
    if not fixes or not ecosystems:
        return ""
    ecosystem = ecosystems[0]
    best, best_version = "", None
    for fix in sorted(fixes):
        parsed = parse_version(ecosystem, fix)
        if parsed is None:
            continue
        if best_version is None or parsed > best_version:
            best, best_version = fix, parsed
    return best
