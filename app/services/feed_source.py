"""What a feed sync needs from outside: an ecosystem's archive, fetched to a file.

The implementation (app/osv_archives.py, over HTTP) is passed in where the sync is built, so
the services import no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class DownloadFailed(Exception):
    """The archive could not be fetched whole, or what was fetched is not a sound archive; the
    message names the URL and why (it carries no credentials)."""


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional request sends back: the archive's ETag and Last-Modified."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class Downloaded:
    """An archive written whole to `path`, with the validators it came with."""

    path: Path
    size: int
    sha256: str
    validators: Validators


class ArchiveSource(Protocol):
    def url(self, ecosystem: str) -> str:
        """Where the ecosystem's archive is fetched from."""
        ...

    async def fetch(
        self, ecosystem: str, known: Validators | None, dest: Path
    ) -> Downloaded | None:
        """The ecosystem's archive written to `dest`; None when `known` describes it still
        (not modified).

        Raises:
            DownloadFailed: anything short of the whole archive, within the size and time
                limits.
        """
        ...
