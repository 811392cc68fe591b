"""One feed sync: each ecosystem's archive fetched (conditionally), checked, and imported.

Every archive is downloaded whole and checked (each member's CRC, sizes) before anything is
written: an archive cut off or corrupt is that ecosystem's failure and never reaches the import,
which takes each ecosystem present as complete and would delete what a partial archive lacks.
The archives that arrived are then imported together as one feed generation (app/services/
feed_import.py): in force only once complete. Ecosystems not modified or failed keep their
stored advisories.

The validators of an ecosystem's archive are recorded only once it is imported, and trusted
only while the feed in force is the one the last sync left (a `vulndb import` in between makes
the next sync fetch everything again).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from app.scanner.vulns.matching import VERSION_CLASSES
from app.services.feed_import import FeedInputError, ImportReport, import_feed
from app.services.feed_source import ArchiveSource, Downloaded, DownloadFailed, Validators
from storage.errors import StorageError
from storage.feed_syncs import (
    FAILED,
    NOT_MODIFIED,
    OK,
    EcosystemSync,
    FeedSyncRepository,
    ImportedArchive,
    SyncRound,
)
from storage.vulnerabilities import VulnerabilityRepository

logger = logging.getLogger(__name__)

# Directories of osv.dev's bucket (`<name>/all.zip`); the default syncs those the matcher compares.
OSV_ECOSYSTEMS = frozenset(
    {
        "AlmaLinux",
        "Alpine",
        "Debian",
        "Go",
        "Maven",
        "PyPI",
        "Red Hat",
        "Rocky Linux",
        "SUSE",
        "Ubuntu",
        "npm",
        "openSUSE",
    }
)
# One OSV record is a few KiB; a member past this is not a record (and would be read whole).
MAX_MEMBER_BYTES = 64 << 20


def default_ecosystems() -> tuple[str, ...]:
    return tuple(sorted(name for name in VERSION_CLASSES if name in OSV_ECOSYSTEMS))


@dataclass(frozen=True, slots=True)
class EcosystemResult:
    ecosystem: str
    outcome: str  # storage.feed_syncs.OUTCOMES
    detail: str  # what was read (size, sha256), or why it failed
    downloaded: Downloaded | None = None


@dataclass
class SyncReport:
    results: list[EcosystemResult] = field(default_factory=list)
    imported: ImportReport | None = None  # None when nothing was imported
    feed_version: str = ""  # the feed in force afterwards ("" before any)

    @property
    def changed(self) -> bool:
        return self.imported is not None and self.imported.changed

    @property
    def failed(self) -> list[EcosystemResult]:
        return [r for r in self.results if r.outcome == FAILED]


class FeedSync:
    def __init__(
        self,
        *,
        db: AsyncDatabase[dict[str, Any]],
        source: ArchiveSource,
        ecosystems: Sequence[str] = (),
        max_time_ms: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._source = source
        self.ecosystems = tuple(ecosystems) or default_ecosystems()
        self._max_time_ms = max_time_ms
        self._feeds = VulnerabilityRepository(db, max_time_ms=max_time_ms)
        self._syncs = FeedSyncRepository(db, max_time_ms=max_time_ms)
        self._clock = clock

    async def sync(self, *, progress: bool = False) -> SyncReport:
        """Fetch, check and import every configured ecosystem; record each outcome.

        Raises:
            StorageError: the database failed (outcomes recorded when it still answers).
        """
        started = self._clock()
        feed = await self._feeds.get_feed()
        version = "" if feed is None else feed.version
        last = await self._syncs.last_round()
        trusted = last is not None and feed is not None and last.feed_version == version
        known = await self._syncs.ecosystems() if trusted else {}
        report = SyncReport(feed_version=version)
        failure: StorageError | None = None
        with tempfile.TemporaryDirectory(prefix="image-service-feed-") as scratch:
            fetched: list[EcosystemResult] = []
            for number, ecosystem in enumerate(self.ecosystems):
                archive = known[ecosystem].archive if ecosystem in known else None
                result = await self._fetch(ecosystem, archive, Path(scratch) / f"{number}.zip")
                (fetched if result.downloaded else report.results).append(result)
            if fetched:
                try:
                    report.imported = await import_feed(
                        self._db,
                        [r.downloaded.path for r in fetched if r.downloaded],
                        progress=progress,
                        max_time_ms=self._max_time_ms,
                        clock=self._clock,
                    )
                except FeedInputError as exc:
                    fetched = [_failed(r, f"nothing to import: {exc}") for r in fetched]
                except StorageError as exc:  # FeedChanged among them
                    failure = exc
                    fetched = [_failed(r, f"not imported: {exc}") for r in fetched]
                else:
                    report.feed_version = report.imported.new_version
            order = {name: n for n, name in enumerate(self.ecosystems)}
            report.results = sorted([*report.results, *fetched], key=lambda r: order[r.ecosystem])
        await self._record(report, known, started)
        if failure is not None:
            raise failure
        return report

    async def _fetch(
        self, ecosystem: str, archive: ImportedArchive | None, dest: Path
    ) -> EcosystemResult:
        known = None if archive is None else Validators(archive.etag, archive.last_modified)
        try:
            got = await self._source.fetch(ecosystem, known, dest)
            if got is not None:
                await asyncio.to_thread(check_archive, got.path)
        except DownloadFailed as exc:
            return EcosystemResult(ecosystem, FAILED, str(exc))
        if got is None:
            return EcosystemResult(ecosystem, NOT_MODIFIED, "")
        detail = f"{got.size} bytes, sha256 {got.sha256}"
        return EcosystemResult(ecosystem, OK, detail, got)

    async def _record(
        self, report: SyncReport, known: dict[str, EcosystemSync], started: datetime
    ) -> None:
        now = self._clock()
        for result in report.results:
            previous = known.get(result.ecosystem)
            archive = None if previous is None else previous.archive
            if result.outcome == OK and result.downloaded is not None:
                got = result.downloaded
                archive = ImportedArchive(
                    etag=got.validators.etag,
                    last_modified=got.validators.last_modified,
                    sha256=got.sha256,
                    size=got.size,
                    imported_at=now,
                )
            error = result.detail if result.outcome == FAILED else ""
            await self._syncs.record(
                EcosystemSync(result.ecosystem, result.outcome, now, error, archive)
            )
        await self._syncs.record_round(SyncRound(started, now, report.feed_version))


def _failed(result: EcosystemResult, why: str) -> EcosystemResult:
    return EcosystemResult(result.ecosystem, FAILED, why)


def check_archive(path: Path) -> None:
    """Every member of the zip reads back whole with its CRC, none larger than a record can be.

    Raises:
        DownloadFailed: it is not such an archive.
    """
    unreadable = (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
    )
    try:
        archive = zipfile.ZipFile(path)
    except unreadable as exc:
        raise DownloadFailed(f"not a readable zip archive: {exc}") from None
    with archive:
        for info in archive.infolist():
            if info.file_size > MAX_MEMBER_BYTES:
                raise DownloadFailed(
                    f"the archive's member {info.filename} is larger than {MAX_MEMBER_BYTES} bytes"
                )
            try:
                with archive.open(info) as member:
                    while member.read(1 << 20):
                        pass
            except unreadable as exc:
                raise DownloadFailed(
                    f"the archive is corrupt: {info.filename} does not read back ({exc})"
                ) from None
