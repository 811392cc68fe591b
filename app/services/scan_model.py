"""What a scan is given and what it reports: limits, options, result and counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.scanner.layers import LayerLimits


@dataclass(frozen=True, slots=True)
class ScanLimits:
    max_concurrent: int = 8
    # how long a caller waits for a free slot before 429
    slot_wait_s: float = 5.0
    # a whole scan (registry + layers + matching) must finish within this
    timeout_s: float = 600.0
    layers: LayerLimits = field(default_factory=LayerLimits)
    layer_cache_entries: int = 512
    # and at most this many file findings and package records in all (~100 MB)
    layer_cache_records: int = 200_000
    # layers of one scan downloaded and read at the same time
    layers_at_once: int = 3


@dataclass(slots=True)
class ScanStats:
    """Counters the metrics endpoint exposes."""

    scans: int = 0
    reused: int = 0
    rematched: int = 0
    analysed: int = 0
    layers_downloaded: int = 0
    layer_bytes: int = 0
    layers_from_cache: int = 0
    metadata_from_cache: int = 0
    rejected_busy: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class ScanOptions:
    force: bool  # bypass every cache, layers included
    ignore_stored: bool
    refresh_metadata: bool
    expected_digest: str = ""


@dataclass(frozen=True, slots=True)
class ScanResult:
    image_id: str
    # what the name pointed to at the registry (an index or a manifest)
    top_digest: str
    # "reused" (stored scan), "rematched" (stored packages, new feed) or "analysed"
    how: str
