"""`image-service vulndb import`: load an OSV feed (directory or osv.dev `all.zip`) into MongoDB.

Each ecosystem present in the feed is taken as complete: its stored advisories that the feed
no longer holds are deleted. Ecosystems the matcher cannot compare are skipped for advisories,
but every record's CVSS vectors are kept by CVE (a second pass over the files), so that an
advisory without a score (Debian's, Alpine's) gets the one its CVE has elsewhere in the feed.
"""

from __future__ import annotations

import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from tqdm import tqdm

from app.cli.database import command_database
from app.composition import rematch_stored_images
from app.config import Settings
from app.scanner.vulns.matching import is_supported
from app.scanner.vulns.osv import (
    Advisory,
    CveScore,
    OsvError,
    cve_scores,
    parse_record,
    record_ecosystems,
)
from storage.errors import StorageError
from storage.vulnerabilities import NO_ECOSYSTEM, ImportCounts, VulnerabilityRepository

_MAX_REPORTED = 50


class FeedInputError(Exception):
    """The path is missing, unreadable, or holds no usable OSV record."""


@dataclass
class ImportReport:
    files: int = 0
    records: int = 0  # valid OSV records, withdrawn ones included
    advisories: int = 0  # (ecosystem, package) entries stored or compared
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    counts: ImportCounts = field(default_factory=lambda: ImportCounts(0, 0, 0, 0))
    score_counts: ImportCounts = field(default_factory=lambda: ImportCounts(0, 0, 0, 0))
    old_version: str | None = None
    new_version: str = ""

    @property
    def changed(self) -> bool:
        return self.old_version != self.new_version


async def import_feed(
    db: AsyncDatabase[dict[str, Any]],
    path: Path,
    *,
    progress: bool,
    max_time_ms: int = 10_000,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportReport:
    """Store the feed at `path` and record its version.

    Raises:
        FeedInputError: nothing to import (nothing is written then).
        StorageError: the database failed.
    """
    zipped, files = _feed_files(path)
    repo = VulnerabilityRepository(db, max_time_ms=max_time_ms)
    report = ImportReport(files=len(files))
    old = await repo.get_feed()
    previous = await repo.begin_import(started_at=clock())
    covered: set[str] = set()
    with tqdm(total=len(files), unit="file", file=sys.stderr, disable=not progress) as bar:
        entries = _advisories(_read(path, zipped, files, report, bar), report, covered)
        report.counts = await repo.apply_import(entries, covered)
    if not covered:  # then nothing was written either
        await repo.abort_import(previous)
        raise FeedInputError(_nothing_usable(path, report))
    scored: set[str] = set()
    rows = _scores(_read(path, zipped, files, ImportReport(), _silent()), scored)
    report.score_counts = await repo.apply_scores(rows, scored)
    state = await repo.set_feed(imported_at=clock())
    report.old_version = None if old is None else old.version
    report.new_version = state.version
    return report


def _feed_files(path: Path) -> tuple[bool, list[str]]:
    """Whether the feed is a zip, and its JSON files: paths, or member names in a zip."""
    if not path.exists():
        raise FeedInputError(f"{path} does not exist")
    if path.is_dir():
        return False, [str(p) for p in sorted(path.rglob("*.json")) if p.is_file()]
    if path.suffix == ".zip" or zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise FeedInputError(f"cannot read {path} as a zip archive: {exc}") from exc
        return True, [i.filename for i in infos if not i.is_dir() and i.filename.endswith(".json")]
    if path.suffix == ".json":
        return False, [str(path)]
    raise FeedInputError(f"{path} is neither a directory, a .zip nor a .json file")


def _read(
    path: Path, zipped: bool, files: list[str], report: ImportReport, bar: tqdm[Any]
) -> Iterator[tuple[str, bytes]]:
    """Each file's content, member by member for a zip; unreadable ones go to the report."""
    archive = zipfile.ZipFile(path) if zipped else None
    try:
        for name in files:
            try:
                data = archive.read(name) if archive else Path(name).read_bytes()
            except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
                report.invalid.append((name, f"cannot read: {exc}"))
            else:
                yield name, data
            bar.update(1)
    finally:
        if archive:
            archive.close()


def _advisories(
    contents: Iterator[tuple[str, bytes]], report: ImportReport, covered: set[str]
) -> Iterator[Advisory]:
    """The advisories of supported ecosystems; `covered` collects every such ecosystem seen."""
    for name, data in contents:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            report.invalid.append((name, f"not JSON: {exc}"))
            continue
        for record in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(record, dict):
                report.invalid.append((name, "not an OSV record (a JSON object)"))
                continue
            try:
                advisories = parse_record(record)
            except OsvError as exc:
                report.invalid.append((name, str(exc)))
                continue
            report.records += 1
            covered.update(e for e in record_ecosystems(record) if is_supported(e))
            for advisory in advisories:
                if is_supported(advisory["ecosystem"]):
                    report.advisories += 1
                    yield advisory


def _scores(contents: Iterator[tuple[str, bytes]], covered: set[str]) -> Iterator[CveScore]:
    """Every record's CVSS vectors by CVE; `covered` collects the ecosystems of every valid
    record (NO_ECOSYSTEM for one naming none). Invalid files were reported by the first pass."""
    for _, data in contents:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            continue
        for record in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(record, dict):
                continue
            try:
                rows = cve_scores(record)
                covered.update(record_ecosystems(record) or {NO_ECOSYSTEM})
            except OsvError:
                continue
            yield from rows


def _silent() -> tqdm[Any]:
    return tqdm(disable=True)


def _nothing_usable(path: Path, report: ImportReport) -> str:
    if not report.files:
        return f"no .json files in {path}"
    if not report.records:
        return f"no valid OSV record in {path} ({len(report.invalid)} invalid files)"
    return f"no record in {path} is for a supported ecosystem (Debian, Ubuntu, Alpine, PyPI, npm)"


async def run_vulndb_import(settings: Settings, path: Path, *, progress: bool) -> int:
    """Exit status: 0 imported; 1 database error; 2 nothing importable."""
    try:
        async with command_database(settings) as db:
            report = await import_feed(
                db, path, progress=progress, max_time_ms=settings.query_timeout_ms
            )
            _report_invalid(report.invalid)
            # the hook: stored images follow the new feed
            rematched = await _rematch(db, settings, report) if report.changed else None
    except FeedInputError as exc:
        print(f"image-service vulndb import: {exc}", file=sys.stderr)
        return 2
    except _RematchFailed as exc:
        print(_summary(exc.report, None))
        failed = f"image-service vulndb import: feed stored, rematching failed: {exc}"
        print(failed, file=sys.stderr)
        return 1
    except (StorageError, PyMongoError) as exc:
        print(f"image-service vulndb import: database error: {exc}", file=sys.stderr)
        return 1
    print(_summary(report, rematched))
    return 0


class _RematchFailed(Exception):
    def __init__(self, report: ImportReport, cause: Exception) -> None:
        super().__init__(str(cause))
        self.report = report


async def _rematch(
    db: AsyncDatabase[dict[str, Any]], settings: Settings, report: ImportReport
) -> int:
    try:
        return await rematch_stored_images(db, settings)
    except (StorageError, PyMongoError) as exc:
        raise _RematchFailed(report, exc) from exc


def _summary(report: ImportReport, rematched: int | None) -> str:
    c, sc = report.counts, report.score_counts
    text = (
        f"vulndb: {report.records} records, {report.advisories} advisories: "
        f"{c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged, "
        f"{c.deleted} deleted; CVE scores: {sc.inserted} inserted, {sc.updated} updated, "
        f"{sc.unchanged} unchanged, {sc.deleted} deleted; {len(report.invalid)} invalid files; "
        f"feed {report.new_version} ({'changed' if report.changed else 'unchanged'})"
    )
    return text if rematched is None else f"{text}; {rematched} images rematched"


def _report_invalid(invalid: list[tuple[str, str]]) -> None:
    for name, reason in invalid[:_MAX_REPORTED]:
        print(f"{name}: {reason}", file=sys.stderr)
    if len(invalid) > _MAX_REPORTED:
        print(f"... and {len(invalid) - _MAX_REPORTED} more invalid files", file=sys.stderr)
