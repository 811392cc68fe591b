"""ScanImage: resolve a name at its registry, analyse the layers, match, store.

A scan reuses what it may: registry metadata from the in-memory cache (4 h), a stored scan
of the same digest matched against the current feed, layers analysed before (by digest).
`force` bypasses all three. Identical scans running at once share one analysis, and a
bounded number of analyses run at a time; a caller that cannot get a slot soon gets 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from app.errors import DeadlineExceededPlain, InvalidArgument, ResourceExhausted
from app.scanner.errors import ScanError
from app.scanner.layers import assemble, operating_system_label, osv_ecosystem
from app.scanner.layers.analysis import IN_THREAD, LayerAnalysis
from app.scanner.model import OS_KINDS, InstalledPackage, OperatingSystem, ResolvedImage
from app.scanner.reference import ImageReference, InvalidReference, parse_reference
from app.services.caches import TtlCache
from app.services.images import ImageService
from app.services.layer_reading import LayerReader
from app.services.ports import ImageNormalizer, ImageRegistry
from app.services.rematching import Rematcher
from app.services.scan_model import ScanLimits, ScanOptions, ScanResult, ScanStats
from app.services.scan_results import Doc, PackageKey, image_name, scanned_image
from app.services.vuln_matching import VulnerabilityMatcher
from storage.images import ImageRepository, ScannerState

logger = logging.getLogger(__name__)
# A reused scan of a known name moves `lastUpdated` at most this often.
REUSE_TOUCH_S = 3600.0


class ScanService:
    """The ScanImage use case, also used by WatchImage and the rescan loop."""

    def __init__(
        self,
        *,
        images: ImageService,
        repo: ImageRepository,
        registry: ImageRegistry,
        matcher: VulnerabilityMatcher,
        metadata_cache: TtlCache[str, ResolvedImage],
        rematcher: Rematcher,
        normalize: ImageNormalizer,
        limits: ScanLimits,
        analysis: LayerAnalysis = IN_THREAD,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._images, self._repo, self._matcher = images, repo, matcher
        self._registry, self._metadata = registry, metadata_cache
        self._rematcher, self._normalize = rematcher, normalize
        self._limits, self._clock = limits, clock
        self._slots = asyncio.Semaphore(limits.max_concurrent)
        self._running: dict[tuple[str, ScanOptions], asyncio.Task[ScanResult]] = {}
        self.stats = ScanStats()
        # where layers are analysed (threads or worker processes): the caller starts and stops it
        self._layers = LayerReader(
            registry=registry, limits=limits, stats=self.stats, analysis=analysis
        )

    @staticmethod
    def parse(name: str) -> ImageReference:
        """Raises InvalidArgument for an empty or unparsable name."""
        if not name:
            raise InvalidArgument("image name must be specified")
        try:
            return parse_reference(name)
        except InvalidReference as exc:
            raise InvalidArgument(str(exc)) from exc

    async def scan_image(
        self,
        name: str,
        *,
        force: bool = False,
        include_snoozed: bool = False,
        cluster: str = "",
        namespace: str = "",
    ) -> Doc:
        """ScanImage: the stored image after the scan.

        Raises:
            ServiceError: bad name (400), 429 when busy, 504 when the scan is too slow.
            ScanError: registry and layer failures (app/error_rendering.py gives their status).
        """
        if cluster or namespace:
            raise InvalidArgument("delegated scanning is not supported")
        reference = self.parse(name)
        result = await self.scan(reference, force=force)
        return await self._images.get(result.image_id, include_snoozed=include_snoozed)

    async def scan(
        self,
        reference: ImageReference,
        *,
        force: bool = False,
        ignore_stored: bool = False,
        refresh_metadata: bool = False,
        expected_digest: str = "",
    ) -> ScanResult:
        """Scan and store; concurrent identical requests share one run.

        `force` bypasses every cache; `ignore_stored` analyses even if a stored scan of the
        digest exists; `refresh_metadata` asks the registry again (a tag that moved);
        `expected_digest` (what the registry said the name points to) refetches cached
        metadata that disagrees with it.
        The run is a task of its own: a caller that goes away neither cancels it for the
        others waiting on it nor loses the stored result.
        """
        options = ScanOptions(
            force, ignore_stored or force, refresh_metadata or force, expected_digest
        )
        key = (reference.full_name, options)
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(self._scan_in_slot(reference, options))
            self._running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def _finished(self, key: tuple[str, ScanOptions], task: asyncio.Task[ScanResult]) -> None:
        self._running.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: nobody may be left waiting for it

    async def close(self) -> None:
        """Stop the scans still running (shutdown)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _scan_in_slot(self, reference: ImageReference, options: ScanOptions) -> ScanResult:
        async with self._slot():
            self.stats.scans += 1
            deadline = asyncio.timeout(self._limits.timeout_s)
            try:
                async with deadline:
                    return await self._scan(reference, options)
            except TimeoutError as exc:
                self.stats.failed += 1
                if not deadline.expired():
                    raise
                raise DeadlineExceededPlain(
                    f"scan of {reference.full_name} did not finish within "
                    f"{self._limits.timeout_s:g}s"
                ) from exc
            except ScanError:
                self.stats.failed += 1
                raise

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._limits.slot_wait_s):
                await self._slots.acquire()
        except TimeoutError as exc:
            self.stats.rejected_busy += 1
            raise ResourceExhausted(
                f"{self._limits.max_concurrent} scans are already running; retry later",
                retry_after=max(1.0, self._limits.slot_wait_s),
            ) from exc
        try:
            yield
        finally:
            self._slots.release()

    async def resolve(
        self, reference: ImageReference, *, force: bool, expected_digest: str = ""
    ) -> ResolvedImage:
        """Registry metadata, from the cache unless forced (keyed by full name with digest)."""
        key = reference.full_name
        if not force:
            cached = self._metadata.get(key)
            stale = cached is not None and expected_digest not in ("", cached.top_digest)
            if cached is not None and not stale:
                self.stats.metadata_from_cache += 1
                return cached
        resolved = await self._registry.resolve(reference)
        self._metadata.put(key, resolved)
        if not reference.digest:  # a later scan by digest finds it too
            by_digest = f"{reference.registry}/{reference.remote}@{resolved.top_digest}"
            self._metadata.put(by_digest, resolved)
        return resolved

    async def _scan(self, reference: ImageReference, options: ScanOptions) -> ScanResult:
        resolved = await self.resolve(
            reference, force=options.refresh_metadata, expected_digest=options.expected_digest
        )
        image_id = reference.digest or resolved.manifest_digest
        feed = await self._matcher.feed()
        state = None if options.ignore_stored else await self._repo.scanner_state(image_id)
        if state is not None:
            if state.feed == feed.version:
                await self._add_name(reference, state)
                self.stats.reused += 1
                return ScanResult(image_id, resolved.top_digest, "reused")
            if await self._rematcher.rematch(image_id, names=[image_name(reference)]):
                self.stats.rematched += 1
                return ScanResult(image_id, resolved.top_digest, "rematched")
        await self._analyse(reference, resolved, force=options.force)
        return ScanResult(image_id, resolved.top_digest, "analysed")

    async def _add_name(self, reference: ImageReference, state: ScannerState) -> None:
        """Upsert on a reused scan, as upstream: the name merged, `lastUpdated` now.

        Only when the name is new or the last update is older than REUSE_TOUCH_S: rewriting
        a large document and its index entries on every CI gate's scan is not worth it.
        """
        last = state.last_updated
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        fresh = last is not None and (self._clock() - last).total_seconds() < REUSE_TOUCH_S
        if reference.full_name in state.names and fresh:
            return
        name = image_name(reference)
        image = self._normalize({"id": state.image_id, "name": name, "names": [name]})
        await self._images.upsert([image])

    async def _analyse(
        self, reference: ImageReference, resolved: ResolvedImage, *, force: bool
    ) -> None:
        # a foreign layer (Windows base) is not distributed by the registry: not read
        partial = any(layer.urls for layer in resolved.layers)
        findings = await self._layers.read(reference, resolved.layers, force=force)
        inventory = assemble(findings)
        for note in inventory.notes:
            logger.info("scan of %s: %s", reference.full_name, note)
        keys = [_package_key(p, inventory.os) for p in inventory.packages]
        feed = await self._matcher.feed()
        matches = await self._matcher.match(keys)
        image, record = scanned_image(
            reference,
            resolved,
            inventory,
            keys,
            matches,
            operating_system=operating_system_label(inventory.os),
            os_packages_readable=any(osv_ecosystem(inventory.os, kind) for kind in OS_KINDS),
            feed=feed,
            now=self._clock(),
            partial=partial,
        )
        stored = self._normalize(image)
        stored["_scanner"] = record
        await self._images.upsert([stored])
        self.stats.analysed += 1

    async def current_digest(self, reference: ImageReference) -> str:
        """What the name points to at the registry now (a HEAD request, no download)."""
        return await self._registry.head_digest(reference)

    def forget_metadata(self) -> None:
        """InvalidateScanAndRegistryCaches: registry metadata only; stored scans stay."""
        self._metadata.clear()


def _package_key(package: InstalledPackage, os: OperatingSystem | None) -> PackageKey:
    return PackageKey(
        kind=package.kind,
        ecosystems=tuple(osv_ecosystem(os, package.kind)),
        name=package.source_name,
        # Debian files advisories against the source version (a binNMU's "+b1" is not in it)
        version=package.source_version or package.version,
    )
