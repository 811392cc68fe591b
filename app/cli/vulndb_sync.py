"""`image-service vulndb sync`: fetch each configured ecosystem's OSV archive and import what
changed (app/services/feed_sync.py), then re-match the stored images if the feed did."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pymongo.errors import PyMongoError

from app.cli.database import command_database
from app.cli.vulndb import import_summary, report_invalid
from app.composition import rematch_stored_images
from app.config import Settings, feed_url_problem
from app.osv_archives import OsvArchives
from app.services.feed_sync import FeedSync, SyncReport
from storage.errors import StorageError
from storage.feed_syncs import FAILED, NOT_MODIFIED, OK

_COMMAND = "image-service vulndb sync"


async def run_vulndb_sync(
    settings: Settings, *, url: str | None, ecosystems: Sequence[str], progress: bool
) -> int:
    """Exit status: 0 every ecosystem imported or not modified; 1 any failed, or the database
    did (or re-matching); 2 a bad URL."""
    if url is not None:
        url = url.strip().rstrip("/")
        if problem := feed_url_problem(url):
            print(f"{_COMMAND}: --url: {problem}", file=sys.stderr)
            return 2
        settings = settings.with_overrides(vulndb_url=url)
    rematched: int | None = None
    try:
        async with command_database(settings) as db, OsvArchives.from_settings(settings) as source:
            sync = FeedSync(
                db=db,
                source=source,
                ecosystems=ecosystems or settings.vulndb_ecosystems,
                max_time_ms=settings.query_timeout_ms,
            )
            report = await sync.sync(progress=progress)
            if report.imported is not None:
                report_invalid(report.imported.invalid)
            _print_results(report)
            if report.changed:
                try:
                    rematched = await rematch_stored_images(db, settings)
                except (StorageError, PyMongoError) as exc:
                    print(_summary(report, None))
                    print(f"{_COMMAND}: feed stored, rematching failed: {exc}", file=sys.stderr)
                    return 1
    except (StorageError, PyMongoError) as exc:
        print(f"{_COMMAND}: database error: {exc}", file=sys.stderr)
        return 1
    print(_summary(report, rematched))
    return 1 if report.failed else 0


def _print_results(report: SyncReport) -> None:
    for result in report.results:
        if result.outcome == FAILED:
            print(f"{result.ecosystem}: failed: {result.detail}", file=sys.stderr)
        else:
            detail = f", {result.detail}" if result.detail else ""
            print(f"{result.ecosystem}: {result.outcome}{detail}")


def _summary(report: SyncReport, rematched: int | None) -> str:
    counts = {o: sum(1 for r in report.results if r.outcome == o) for o in (OK, NOT_MODIFIED)}
    text = (
        f"vulndb sync: {counts[OK]} ok, {counts[NOT_MODIFIED]} not modified, "
        f"{len(report.failed)} failed; "
    )
    if report.imported is not None:
        return text + import_summary(report.imported, rematched)
    return text + f"feed {report.feed_version or '(none)'} (unchanged)"
