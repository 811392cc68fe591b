"""Why a scan failed. app/error_rendering.py gives each kind its status; the scanner knows none."""

from __future__ import annotations


class ScanError(Exception):
    """A scan failed; `message` is fit for the client and names the registry if one is involved."""

    def __init__(self, message: str, *, registry: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.registry = registry
        self.retry_after = retry_after


class ManifestUnknown(ScanError):
    """The registry knows neither the repository nor the tag/digest, or has no matching platform."""


class RegistryDenied(ScanError):
    """The registry refused our credentials (or anonymous access) for this repository."""


class RegistryUnavailable(ScanError):
    """The registry could not be reached, or kept failing (5xx, 429) after the retries."""


class RegistryTimeout(ScanError):
    """The registry did not answer in time."""


class RegistryProtocolError(ScanError):
    """The registry answered something the distribution spec does not allow (bad JSON)."""


class UnsupportedManifest(ScanError):
    """A manifest kind we refuse, such as Docker schema 1."""


class DigestMismatch(ScanError):
    """Content served for a digest does not hash to it."""


class LayerLimitExceeded(ScanError):
    """A layer broke a configured limit (size, inflated bytes, file count): likely a bomb."""


class LayerFormatError(ScanError):
    """A layer is not a readable (optionally compressed) tar stream."""


class LayerAnalysisFailed(ScanError):
    """The process analysing a layer died (killed, crashed) or failed in an unexpected way."""


class DestinationRefused(ScanError):
    """The registry, its token realm or a redirect points at an internal address that is not
    allowed; refused before connecting, whether or not anything listens there."""
