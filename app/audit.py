"""The audit log: one JSON line per mutating request and per refused one (401, 403).

The request pipeline (app/pipeline.py) calls `audit_answer` after the error renderer, so it sees
the status the client gets and the caller authentication found; the renderer, where the
exceptions still are, calls
`note_refusal`, which tells an authorization refusal from any other 403 (a registry refusing a
scan's credentials). Handlers add what only they know with `note_audit` (the images a
request changed). Lines go to the `image_service.audit` logger; `configure_audit_log` sends them
to standard output or a file, or nowhere.

Nothing secret is written: no header, and of a JSON body only the fields in `_BODY_FIELDS`.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from app.auth.permissions import Access, Permission
from app.auth.principal import Principal
from app.config import AUDIT_LOG_OFF, AUDIT_LOG_STDOUT
from app.errors import PermissionDenied, Unauthenticated
from app.http import dumps
from app.keys import JSON_BODY, PRINCIPAL, REQUEST_ID

AUDIT_LOGGER = "image_service.audit"
logger = logging.getLogger(AUDIT_LOGGER)

# What a line may quote of a request: these query parameters and these JSON body fields (never
# a token: the secret is only ever in a response), strings cut at MAX_TEXT, lists at MAX_ITEMS.
_QUERY_FIELDS = ("query", "query.query", "confirm", "name")
_BODY_FIELDS = (
    *("imageName", "image_name", "force"),  # scan
    *("name", "role", "roles", "expiration"),  # watch, token, role
    "resourceToAccess",  # role
)
MAX_TEXT = 512
MAX_ITEMS = 32
_REFUSALS = (Unauthenticated, PermissionDenied, web.HTTPUnauthorized, web.HTTPForbidden)


@dataclass(slots=True)
class AuditNote:
    """What a handler adds to its request's line."""

    images_affected: list[str] | int | None = None
    failed: bool = False
    result: dict[str, Any] = field(default_factory=dict)


AUDIT_NOTE = web.RequestKey("image_service.audit_note", AuditNote)
_REFUSED = web.RequestKey("image_service.audit_refused", bool)


def note_audit(
    request: web.Request,
    *,
    images_affected: list[str] | int | None = None,
    failed: bool = False,
    **result: Any,
) -> None:
    """Record the images a request changed (ids or a count), whether it failed though answered
    200 (a watch whose scan failed), and other facts of its result (`dryRun=True`)."""
    request[AUDIT_NOTE] = AuditNote(images_affected, failed, result)


def _brief(value: Any, *, nested: bool = False) -> Any:
    """A JSON value cut to size: long strings, long lists and deep nesting shortened."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    if nested:
        return "…"
    if isinstance(value, list):
        return [_brief(item, nested=True) for item in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {str(key)[:MAX_TEXT]: _brief(item, nested=True) for key, item in items}
    return None


def _picked(source: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any] | None:
    picked = {name: _brief(source[name]) for name in names if name in source}
    return picked or None


def _principal(principal: Principal | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    return {
        "kind": principal.kind.value,
        "id": principal.id,
        "name": principal.name,
        "issuer": principal.issuer or None,
    }


def _outcome(request: web.Request, status: int, note: AuditNote | None) -> str:
    if request.get(_REFUSED):
        return "denied"
    if status >= 400 or (note is not None and note.failed):
        return "failed"
    return "allowed"


def audit_line(
    request: web.Request, endpoint: str | None, status: int, started_at: datetime, elapsed_s: float
) -> dict[str, Any]:
    """The audit record of an answered request."""
    note = request.get(AUDIT_NOTE)
    body = request.get(JSON_BODY)
    return {
        "time": started_at,
        "requestId": request.get(REQUEST_ID),
        "principal": _principal(request.get(PRINCIPAL)),
        "method": request.method,
        "endpoint": endpoint,
        "path": request.path[:MAX_TEXT],
        "query": _picked(request.query, _QUERY_FIELDS),
        "body": _picked(body, _BODY_FIELDS) if body is not None else None,
        "status": status,
        "outcome": _outcome(request, status, note),
        "imagesAffected": note.images_affected if note is not None else None,
        "result": note.result or None if note is not None else None,
        "durationMs": round(elapsed_s * 1000, 3),
    }


def changes_something(guard: object) -> bool:
    """Whether a route guard needs write access: the route changes something."""
    needed = guard if isinstance(guard, tuple) else (guard,)
    return any(isinstance(p, Permission) and p.access is Access.READ_WRITE_ACCESS for p in needed)


def auditing() -> bool:
    """Whether audit lines are written at all (not with `IMAGE_SERVICE_AUDIT_LOG=off`)."""
    return logger.isEnabledFor(logging.INFO)


def audit_answer(request: web.Request, endpoint: str | None, status: int, started: float) -> None:
    """Write the audit line of an answered request to `endpoint` (None: a path no route
    answers; `status` 499: the client hung up)."""
    elapsed = time.perf_counter() - started
    started_at = datetime.now(UTC) - timedelta(seconds=elapsed)
    logger.info(dumps(audit_line(request, endpoint, status, started_at, elapsed)).decode())


def note_refusal(request: web.Request, exc: BaseException) -> None:
    """Marks a request refused for its credentials or permissions (the audit's "denied")."""
    if isinstance(exc, _REFUSALS):
        request[_REFUSED] = True


def configure_audit_log(destination: str) -> None:
    """Send audit lines to `stdout`, append them to a file, or drop them (`off`).

    Raises:
        OSError: the file cannot be opened for appending.
    """
    for previous in logger.handlers:
        previous.close()
    logger.handlers.clear()
    logger.propagate = False  # one line, not repeated by the service's own log
    logger.disabled = destination == AUDIT_LOG_OFF
    if logger.disabled:
        return
    handler: logging.Handler
    if destination == AUDIT_LOG_STDOUT:
        handler = logging.StreamHandler(sys.stdout)
    else:
        # reopened when rotated away (logrotate)
        handler = logging.handlers.WatchedFileHandler(destination, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
