"""What the token and role commands share: the AccessService on MONGODB_URI, exit statuses,
and plain-text tables."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from pymongo.errors import PyMongoError

from app.cli.database import command_database
from app.composition import build_access
from app.config import Settings
from app.errors import ServiceError
from app.services.access import AccessService
from storage.errors import StorageError
from storage.mongo import translate_error


async def run_with_access(
    settings: Settings, command: str, action: Callable[[AccessService], Awaitable[None]]
) -> int:
    """Run `action`; exit status 0 done, 1 database error, 2 refused (bad input, not found)."""
    try:
        async with command_database(settings) as db:
            await action(build_access(db, settings))
    except ServiceError as exc:
        print(f"image-service {command}: {exc.message}", file=sys.stderr)
        return 2
    except (StorageError, PyMongoError) as exc:
        # the driver's own text holds the whole topology; the storage error says it in a line
        print(f"image-service {command}: {translate_error(exc)}", file=sys.stderr)
        return 1
    return 0


def moment(value: datetime | None, *, none: str = "never") -> str:
    return none if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the last one is not padded."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        print("  ".join([*cells, row[-1]]))
