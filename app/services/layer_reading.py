"""An image's layers read from its registry, a few at once, each analysed layer cached by digest."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence

from app.scanner.layers import LayerFindings, read_layer
from app.scanner.layers.analysis import IN_THREAD, LayerAnalysis
from app.scanner.layers.findings import PackageFile
from app.scanner.model import Descriptor
from app.scanner.reference import ImageReference
from app.services.caches import WeightedCache
from app.services.ports import ImageRegistry
from app.services.scan_model import ScanLimits, ScanStats

logger = logging.getLogger(__name__)


class LayerReader:
    """Findings of layers, from the cache (unless forced) or downloaded and read."""

    def __init__(
        self,
        *,
        registry: ImageRegistry,
        limits: ScanLimits,
        stats: ScanStats,
        analysis: LayerAnalysis = IN_THREAD,
    ) -> None:
        self._registry = registry
        self._analysis = analysis
        self._scans_begun = itertools.count()
        self._limits = limits
        self._stats = stats
        self._cache: WeightedCache[str, LayerFindings] = WeightedCache(
            max_entries=limits.layer_cache_entries,
            max_weight=limits.layer_cache_records,
            weigh=_findings_weight,
        )

    async def read(
        self, reference: ImageReference, layers: Sequence[Descriptor], *, force: bool
    ) -> list[LayerFindings]:
        """Every layer's findings, in order; a few read at once (in worker processes, or in
        threads: inflating releases the GIL)."""
        slots = asyncio.Semaphore(self._limits.layers_at_once)
        # layers of scans that began earlier get analysers first (see PrioritySlots)
        priority = next(self._scans_begun)

        async def one(layer: Descriptor) -> LayerFindings:
            if layer.urls:
                return LayerFindings(digest=layer.digest)
            async with slots:
                return await self._layer(reference, layer, force=force, priority=priority)

        started = time.perf_counter()
        tasks = [asyncio.create_task(one(layer)) for layer in layers]
        try:
            findings = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # one layer failed: the others are not needed any more
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        logger.debug(
            "layers of %s read in %.3fs", reference.full_name, time.perf_counter() - started
        )
        return findings

    async def _layer(
        self, reference: ImageReference, layer: Descriptor, *, force: bool, priority: int
    ) -> LayerFindings:
        if not force:
            cached = self._cache.get(layer.digest)
            if cached is not None:
                self._stats.layers_from_cache += 1
                return cached
        limits = self._limits.layers
        # a worker first: the blob is not opened until something can read it
        async with self._analysis.reserve(priority) as analyser:
            started = time.perf_counter()
            async with self._registry.open_blob(
                reference, layer, max_bytes=limits.max_compressed_bytes
            ) as blob:
                findings = await read_layer(
                    blob,
                    media_type=layer.media_type,
                    digest=layer.digest,
                    limits=limits,
                    analyser=analyser,
                )
        self._stats.layers_downloaded += 1
        self._stats.layer_bytes += layer.size
        logger.debug(
            "layer %s of %s read in %.2fs",
            layer.digest,
            reference.full_name,
            time.perf_counter() - started,
        )
        self._cache.put(layer.digest, findings)
        return findings


def _findings_weight(findings: LayerFindings) -> int:
    weight = len(findings.files) + len(findings.whiteouts) + len(findings.opaque_dirs)
    for found in findings.files.values():
        if isinstance(found, PackageFile):
            # an owned path is a short string: about a quarter of a package record
            weight += len(found.records) + len(found.owned) // 4
    return weight
