"""ExportImages: every matching image as one NDJSON line, streamed from one cursor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from marshmallow import ValidationError

from app.error_rendering import ApiError, describe, export_error_line
from app.errors import DeadlineExceeded
from app.handlers.documented import image_service
from app.hardening import SERVER_NAME
from app.http import dumps, query_params
from app.keys import CLIENT_GONE, IMAGES, REQUEST_ID, SETTINGS
from schemas import requests, responses

# Schema instances are reusable and costly to build: one per process, not per request.
EXPORT_PARAMS = requests.ExportImagesParams()

logger = logging.getLogger(__name__)

# Lines are written in chunks of about this size: one write per image costs a chunk
# header and a syscall each, and an export is throughput-bound.
_CHUNK_BYTES = 64 * 1024
# A client that stops reading past the deadline gets this long to drain before the
# connection is dropped; a write is never cancelled midway (it would corrupt the stream).
_STALL_GRACE_S = 30.0
_PREFIX = b'{"result":{"image":'
_SUFFIX = b"}}\n"


def result_line(image: dict[str, Any]) -> bytes:
    """One image of the stream: `{"result": {"image": …}}` and a newline."""
    return _PREFIX + dumps(image) + _SUFFIX


def _api_error(request: web.Request, exc: BaseException) -> ApiError:
    if isinstance(exc, TimeoutError):  # our own deadline
        exc = DeadlineExceeded("export exceeded its timeout")
    return describe(exc, request)


def _error_response(request: web.Request, exc: BaseException) -> web.Response:
    """An error before the first line: the status says it, the body is the stream's framing."""
    error = _api_error(request, exc)
    line = export_error_line(error)
    return web.Response(body=line, status=error.status, content_type="application/json")


class _Deadline:
    """The export's deadline on the loop clock; `None` means no deadline."""

    def __init__(self, timeout_s: int) -> None:
        self._loop = asyncio.get_running_loop()
        self.at = None if timeout_s == 0 else self._loop.time() + max(timeout_s, 0)

    def check(self) -> None:
        if self.at is not None and self._loop.time() >= self.at:
            raise TimeoutError

    async def next(self, stream: AsyncIterator[dict[str, Any]]) -> dict[str, Any] | None:
        self.check()
        if self.at is None:
            return await anext(stream, None)
        async with asyncio.timeout_at(self.at):
            return await anext(stream, None)


async def _write_all(
    response: web.StreamResponse,
    first: dict[str, Any],
    rest: AsyncIterator[dict[str, Any]],
    deadline: _Deadline,
) -> None:
    buffer = bytearray(result_line(first))
    try:
        while (image := await deadline.next(rest)) is not None:
            buffer += result_line(image)
            if len(buffer) >= _CHUNK_BYTES:
                await response.write(bytes(buffer))
                buffer.clear()
                deadline.check()
    except ConnectionError:
        raise
    except Exception:
        if buffer:  # lines already read are sent before the error line
            await response.write(bytes(buffer))
        raise
    if buffer:
        await response.write(bytes(buffer))


def _watchdog(
    request: web.Request, deadline: _Deadline, cursor_limit_s: float
) -> asyncio.TimerHandle | None:
    """Drop a client that stops reading for good: writes block, and are never cancelled."""
    if request.transport is None:
        return None
    loop = asyncio.get_running_loop()
    end = deadline.at if deadline.at is not None else loop.time() + cursor_limit_s
    return loop.call_at(end + _STALL_GRACE_S, request.transport.close)


async def _stream(
    request: web.Request,
    stream: AsyncIterator[dict[str, Any]],
    deadline: _Deadline,
    cursor_limit_s: float,
) -> web.StreamResponse:
    try:
        first = await deadline.next(stream)
    except Exception as exc:  # nothing is sent yet: the status says what went wrong
        return _error_response(request, exc)
    # prepared here, before the pipeline sees it: the headers it would add are set now
    response = web.StreamResponse(
        headers={
            "Cache-Control": "no-store, no-cache",
            "Server": SERVER_NAME,
            "X-Request-Id": request[REQUEST_ID],
        }
    )
    response.content_type = "application/json"
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression(web.ContentCoding.gzip)
    await response.prepare(request)
    watchdog = _watchdog(request, deadline, cursor_limit_s)
    try:
        try:
            if first is not None:
                await _write_all(response, first, stream, deadline)
        except ConnectionError:
            raise
        except Exception as exc:  # the status is sent: the error becomes the last line
            await response.write(export_error_line(_api_error(request, exc)))
        await response.write_eof()
    except ConnectionError:
        request[CLIENT_GONE] = True
        logger.info("export client went away; cursor closed")
    finally:
        if watchdog is not None:
            watchdog.cancel()
    return response


@image_service(
    query=requests.ExportImagesParams,
    responses={
        200: {"description": "one JSON line per image", "schema": responses.ExportStreamLine}
    },
)
async def export_images(request: web.Request) -> web.StreamResponse:
    """ExportImages: stream every matching image as NDJSON

    One line `{"result":{"image":…}}` per image, oldest update first; an error after the
    first line ends the stream with `{"error":{…}}`.
    """
    try:
        params = query_params(EXPORT_PARAMS, request)
    except ValidationError as exc:  # the stream's framing, as for every export error
        return _error_response(request, exc)
    settings = request.app[SETTINGS]
    stream = request.app[IMAGES].export(
        params["query"],
        batch_size=settings.export_batch_size,
        max_time_ms=settings.export_cursor_timeout_ms,
    )
    try:
        cursor_limit_s = settings.export_cursor_timeout_ms / 1000
        return await _stream(request, stream, _Deadline(params["timeout"]), cursor_limit_s)
    finally:
        await stream.aclose()  # closes the cursor, also when the client went away
