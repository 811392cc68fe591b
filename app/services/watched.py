"""WatchImage, UnwatchImage and GetWatchedImages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from app.errors import ResourceExhausted, ServiceError
from app.scanner.errors import ScanError
from app.scanner.reference import InvalidReference, parse_reference
from app.services.scanning import ScanService
from storage.watched import WatchedImage, WatchedImageRepository


class WatchError(StrEnum):
    NO_ERROR = "NO_ERROR"
    INVALID_IMAGE_NAME = "INVALID_IMAGE_NAME"
    NO_VALID_INTEGRATION = "NO_VALID_INTEGRATION"
    SCAN_FAILED = "SCAN_FAILED"


@dataclass(frozen=True, slots=True)
class WatchOutcome:
    normalized_name: str
    error_type: WatchError
    error_message: str = ""
    image_id: str = ""  # the image scanned and stored, when watching worked


class WatchService:
    """Watched names: validated, scanned once when added, then kept fresh by the rescan loop."""

    def __init__(
        self,
        *,
        repo: WatchedImageRepository,
        scans: ScanService,
        interval: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self._scans = scans
        self._interval = interval
        self._clock = clock

    async def list(self) -> list[WatchedImage]:
        return await self._repo.list()

    async def unwatch(self, name: str) -> None:
        """Forget a watched name, exactly as given; unknown names are fine."""
        await self._repo.remove(name)

    async def watch(self, name: str) -> WatchOutcome:
        """Validate, scan (ignoring any stored copy) and remember a name.

        Failures are answers with an `errorType`, as upstream; only storage errors raise,
        and a full scan queue (429), which a client should retry rather than read as final.
        """
        if not name:
            return WatchOutcome("", WatchError.INVALID_IMAGE_NAME, "no image name specified")
        try:
            reference = parse_reference(name)
        except InvalidReference as exc:
            return WatchOutcome("", WatchError.INVALID_IMAGE_NAME, f"failed to parse name: {exc}")
        if reference.digest:
            return WatchOutcome(
                "",
                WatchError.INVALID_IMAGE_NAME,
                f"name {name} contains a digest, but watch does not handle images with digests",
            )
        try:
            result = await self._scans.scan(reference, ignore_stored=True)
        except ResourceExhausted:
            raise
        except (ServiceError, ScanError) as exc:
            return WatchOutcome("", WatchError.SCAN_FAILED, f"failed to scan image: {exc.message}")
        if not result.image_id:
            return WatchOutcome(
                "", WatchError.SCAN_FAILED, "could not get SHA after scanning image"
            )
        now = self._clock()
        await self._repo.add(
            reference.full_name,
            digest=result.top_digest,
            checked=now,
            next_check=now + self._interval,
        )
        return WatchOutcome(reference.full_name, WatchError.NO_ERROR, image_id=result.image_id)
