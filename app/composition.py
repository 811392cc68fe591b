"""Builds services from a database and settings; used by the server's cleanup contexts and by
the commands."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.scanner.layers import LayerLimits
from app.scanner.layers.analysis import IN_THREAD, LayerAnalysis
from app.scanner.layers.workers import WorkerPool
from app.services.access import AccessService
from app.services.images import ImageService
from app.services.ranking import RiskRanker
from app.services.rematching import Rematcher
from app.services.scan_model import ScanLimits
from app.services.vuln_matching import VulnerabilityMatcher
from schemas.image import normalize_image
from storage.cve_sightings import CveSightingRepository
from storage.images import ImageRepository
from storage.roles import RoleRepository
from storage.tokens import TokenRepository
from storage.vulnerabilities import VulnerabilityRepository

Database = AsyncDatabase[dict[str, Any]]


def build_images(db: Database, settings: Settings) -> tuple[ImageService, ImageRepository]:
    """The image service and the repository under it."""
    repo = ImageRepository(db, max_time_ms=settings.query_timeout_ms)
    service = ImageService(
        repo=repo,
        ranker=RiskRanker(repo.distinct_risk_scores),
        regex_max_length=settings.regex_max_length,
    )
    return service, repo


def build_access(db: Database, settings: Settings) -> AccessService:
    """API tokens and roles, on the collections of `db`."""
    timeout = settings.query_timeout_ms
    return AccessService(
        tokens=TokenRepository(db, max_time_ms=timeout),
        roles=RoleRepository(db, max_time_ms=timeout),
    )


def build_matcher(db: Database, settings: Settings) -> VulnerabilityMatcher:
    timeout_ms = settings.query_timeout_ms
    return VulnerabilityMatcher(
        VulnerabilityRepository(db, max_time_ms=timeout_ms),
        CveSightingRepository(db, max_time_ms=timeout_ms),
    )


async def rematch_stored_images(db: Database, settings: Settings) -> int:
    """After a feed import: every image our scanner stored, matched against the new feed."""
    images, repo = build_images(db, settings)
    rematcher = Rematcher(
        images=images, repo=repo, matcher=build_matcher(db, settings), normalize=normalize_image
    )
    return await rematcher.rematch_all()


def scan_limits(settings: Settings) -> ScanLimits:
    return ScanLimits(
        max_concurrent=settings.max_concurrent_scans,
        slot_wait_s=settings.scan_queue_wait_s,
        timeout_s=settings.scan_timeout_s,
        layers=LayerLimits(
            max_compressed_bytes=settings.max_layer_bytes,
            max_inflated_bytes=settings.max_inflated_layer_bytes,
            max_files=settings.max_layer_files,
        ),
    )


def layer_analysis(settings: Settings) -> LayerAnalysis:
    """Worker processes for the layers (started on first use), or threads when set to 0."""
    return WorkerPool(settings.scan_workers) if settings.scan_workers > 0 else IN_THREAD
