"""Answers that are our failures or refusals to serve (5xx, 429): one log line each, with the
request id, route, status and reason, and a count by route, status and cause in /metrics.

The error renderer records what it rendered (`note_rendered`); the request pipeline, which
sees the status the client got, calls `note_failure`. A client that hung up (499) is neither.
An export stream that ended with an error line after its 200 is reported with that error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import Counter

from app.keys import REQUEST_ID

if TYPE_CHECKING:
    from app.error_rendering import ApiError

logger = logging.getLogger("image_service.failures")


@dataclass(frozen=True, slots=True)
class Rendered:
    """The error a request was answered with, and the exception type it came from."""

    cause: str
    error: ApiError


RENDERED = web.RequestKey("image_service.rendered_error", Rendered)


def note_rendered(request: web.BaseRequest, exc: BaseException, error: ApiError) -> None:
    request[RENDERED] = Rendered(type(exc).__name__, error)


def is_failure(status: str) -> bool:
    """A status the failure log reports (statuses are three digits: string order is numeric)."""
    return status >= "500" or status == "429"


def note_failure(request: web.Request, counter: Counter, route: str, status: str) -> None:
    """Log and count one failed answer; `status` "200" only for a stream that ended in error."""
    rendered = request.get(RENDERED)
    if rendered is None:
        cause, code, message = "unknown", "-", "no error was rendered"
    else:
        cause, code, message = rendered.cause, rendered.error.code.name, rendered.error.message
        if status == "200":
            status = str(rendered.error.status)
            if not is_failure(status):
                return
            message = f"the stream ended with an error line: {message}"
    counter.labels(request.method, route, status, cause).inc()
    logger.log(
        logging.ERROR if status == "500" else logging.WARNING,
        "%s %s -> %s %s (%s): %s [request %s]",
        request.method,
        route,
        status,
        code,
        cause,
        message,
        request.get(REQUEST_ID, "-"),
    )
