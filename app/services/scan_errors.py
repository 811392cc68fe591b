"""How each scanner failure reaches the client: one table from failure kind to API error."""

from __future__ import annotations

from app.errors import (
    DeadlineExceededPlain,
    FailedPrecondition,
    InvalidArgument,
    NotFoundPlain,
    PermissionDenied,
    ServiceError,
    Unavailable,
)
from app.scanner import errors as scan

_KINDS: tuple[tuple[type[scan.ScanError], type[ServiceError]], ...] = (
    (scan.InvalidImageName, InvalidArgument),
    (scan.ManifestUnknown, NotFoundPlain),
    (scan.RegistryDenied, PermissionDenied),
    (scan.RegistryTimeout, DeadlineExceededPlain),
    (scan.RegistryUnavailable, Unavailable),
    (scan.RegistryProtocolError, Unavailable),
    (scan.DigestMismatch, Unavailable),
    (scan.UnsupportedManifest, FailedPrecondition),
    (scan.LayerLimitExceeded, FailedPrecondition),
    (scan.LayerFormatError, FailedPrecondition),
)


def to_service_error(error: scan.ScanError) -> ServiceError:
    """The API error for a scanner failure; unknown kinds are server errors."""
    for kind, api_error in _KINDS:
        if isinstance(error, kind):
            return api_error(error.message, retry_after=error.retry_after)
    return Unavailable(error.message, retry_after=error.retry_after)
