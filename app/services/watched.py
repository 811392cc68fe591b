"""Watched image names and image scanning requests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.errors import InvalidArgument, NotFound
from app.scanner.reference import InvalidReference, parse_reference
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


class NoScannerIntegrated(NotFound):
    """No scanner can analyse images yet; upstream's wording, without a suffix."""

    suffix = ""


class WatchService:
    """WatchImage, UnwatchImage, GetWatchedImages and ScanImage."""

    def __init__(self, *, repo: WatchedImageRepository) -> None:
        self._repo = repo

    async def list(self) -> list[WatchedImage]:
        return await self._repo.list()

    async def unwatch(self, name: str) -> None:
        """Forget a watched name, exactly as given; unknown names are fine."""
        await self._repo.remove(name)

    async def watch(self, name: str) -> WatchOutcome:
        """Validate and normalize a name to watch; answers as upstream does without a scanner."""
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
        return WatchOutcome(
            reference.full_name,
            WatchError.NO_VALID_INTEGRATION,
            "scan could not be completed, due to no applicable registry/scanner integration",
        )

    async def scan(self, image_name: str, *, cluster: str = "", namespace: str = "") -> None:
        """Scan an image by name.

        Raises:
            InvalidArgument: empty or unparsable name, or a delegation target.
            NotFound: no scanner is integrated.
        """
        if cluster or namespace:
            raise InvalidArgument("delegated scanning is not supported")
        if not image_name:
            raise InvalidArgument("image name must be specified")
        try:
            parse_reference(image_name)
        except InvalidReference as exc:
            raise InvalidArgument(str(exc)) from exc
        raise NoScannerIntegrated("not found: no image scanners are integrated")
