"""`image-service vulndb import`: load an OSV feed (directory or osv.dev `all.zip`) into MongoDB.

How a feed is loaded (each ecosystem present taken as complete, CVSS vectors kept by CVE, the
previous feed in force until the import is complete): app/services/feed_import.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from app.cli.database import command_database
from app.composition import rematch_stored_images
from app.config import Settings
from app.services.feed_import import FeedInputError, ImportReport, import_feed
from storage.errors import StorageError

_MAX_REPORTED = 50


async def run_vulndb_import(settings: Settings, path: Path, *, progress: bool) -> int:
    """Exit status: 0 imported; 1 database error; 2 nothing importable."""
    try:
        async with command_database(settings) as db:
            report = await import_feed(
                db, path, progress=progress, max_time_ms=settings.query_timeout_ms
            )
            report_invalid(report.invalid)
            # the hook: stored images follow the new feed
            rematched = await _rematch(db, settings, report) if report.changed else None
    except FeedInputError as exc:
        print(f"image-service vulndb import: {exc}", file=sys.stderr)
        return 2
    except _RematchFailed as exc:
        print(import_summary(exc.report, None))
        failed = f"image-service vulndb import: feed stored, rematching failed: {exc}"
        print(failed, file=sys.stderr)
        return 1
    except (StorageError, PyMongoError) as exc:
        print(f"image-service vulndb import: database error: {exc}", file=sys.stderr)
        return 1
    print(import_summary(report, rematched))
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


def import_summary(report: ImportReport, rematched: int | None) -> str:
    c, sc = report.counts, report.score_counts
    text = (
        f"vulndb: {report.records} records, {report.advisories} advisories: "
        f"{c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged, "
        f"{c.deleted} deleted; CVE scores: {sc.inserted} inserted, {sc.updated} updated, "
        f"{sc.unchanged} unchanged, {sc.deleted} deleted; {len(report.invalid)} invalid files; "
        f"feed {report.new_version} ({'changed' if report.changed else 'unchanged'})"
    )
    return text if rematched is None else f"{text}; {rematched} images rematched"


def report_invalid(invalid: list[tuple[str, str]]) -> None:
    for name, reason in invalid[:_MAX_REPORTED]:
        print(f"{name}: {reason}", file=sys.stderr)
    if len(invalid) > _MAX_REPORTED:
        print(f"... and {len(invalid) - _MAX_REPORTED} more invalid files", file=sys.stderr)
