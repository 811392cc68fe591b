"""Loading an OSV feed (directories, .json files, osv.dev `all.zip` archives) into the store.

Each ecosystem present in the feed is taken as complete: its stored advisories that the feed
no longer holds are deleted. Ecosystems the matcher cannot compare are skipped for advisories,
but every record's CVSS vectors are kept by CVE (a second pass over the files), so that an
advisory without a score (Debian's, Alpine's) gets the one its CVE has elsewhere in the feed.
The whole import is one generation of the stored feed (storage/vulnerabilities.py): it is in
force only once complete, so an import that stops half-way leaves the previous feed serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pymongo.asynchronous.database import AsyncDatabase
from tqdm import tqdm

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


class FeedInputError(Exception):
    """The path is missing, unreadable, or holds no usable OSV record."""


Row = TypeVar("Row")


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
    path: Path | Sequence[Path],
    *,
    progress: bool,
    max_time_ms: int = 10_000,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportReport:
    """Store the feed at `path` (or at several paths, as one feed) and record its version.

    Raises:
        FeedInputError: nothing to import (the feed in force is unchanged then).
        StorageError: the database failed (the feed in force is unchanged then);
            storage.vulnerabilities.FeedChanged when another import finished first.
    """
    paths = [path] if isinstance(path, Path) else list(path)
    sources = [(p, *_feed_files(p)) for p in paths]
    repo = VulnerabilityRepository(db, max_time_ms=max_time_ms)
    report = ImportReport(files=sum(len(files) for _, _, files in sources))
    old = await repo.get_feed()
    await repo.begin_import()
    try:
        covered: set[str] = set()
        with tqdm(total=report.files, unit="file", file=sys.stderr, disable=not progress) as bar:
            entries = _advisories(_read_all(sources, report, bar), report, covered)
            report.counts = await repo.apply_import(_in_thread(entries), covered)
        if not covered:
            raise FeedInputError(_nothing_usable(paths, report))
        scored: set[str] = set()
        rows = _scores(_read_all(sources, ImportReport(), _silent()), scored)
        report.score_counts = await repo.apply_scores(_in_thread(rows), scored)
        state = await repo.set_feed(imported_at=clock())
    except BaseException:
        with contextlib.suppress(StorageError):  # else a later import drops what this one wrote
            await repo.abort_import()
        raise
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


async def _in_thread(items: Iterator[Row], chunk: int = 256) -> AsyncIterator[Row]:
    """The items of a blocking iterator (archive members read, JSON parsed), drawn a chunk at
    a time in a worker thread: the service's event loop keeps answering during a sync."""
    while batch := await asyncio.to_thread(lambda: list(itertools.islice(items, chunk))):
        for item in batch:
            yield item


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


def _read_all(
    sources: list[tuple[Path, bool, list[str]]], report: ImportReport, bar: tqdm[Any]
) -> Iterator[tuple[str, bytes]]:
    for path, zipped, files in sources:
        yield from _read(path, zipped, files, report, bar)


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


def _nothing_usable(paths: list[Path], report: ImportReport) -> str:
    path = ", ".join(str(p) for p in paths)
    if not report.files:
        return f"no .json files in {path}"
    if not report.records:
        return f"no valid OSV record in {path} ({len(report.invalid)} invalid files)"
    return f"no record in {path} is for a supported ecosystem (Debian, Ubuntu, Alpine, PyPI, npm)"
