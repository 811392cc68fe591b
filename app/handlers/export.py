"""ExportImages: every matching image as one NDJSON line, streamed from one cursor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp_apigami import docs, querystring_schema

from app.errors import DeadlineExceeded, GrpcCode, ServiceError
from app.http import dumps
from app.keys import IMAGES, SETTINGS
from app.openapi import ERRORS
from schemas import requests, responses
from storage.errors import QueryTimeout, StorageError, StoreUnavailable

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


def _error_line(exc: BaseException) -> tuple[int, bytes]:
    """HTTP status and the `{"error": …}` line for an error, as grpc-gateway streams it."""
    if isinstance(exc, TimeoutError):
        exc = DeadlineExceeded("export exceeded its timeout")
    if isinstance(exc, ServiceError):
        code, message, status = exc.code, exc.message, exc.http_status
    elif isinstance(exc, QueryTimeout):
        code, message, status = GrpcCode.DEADLINE_EXCEEDED, f"{exc}: deadline exceeded", 504
    elif isinstance(exc, StoreUnavailable):
        code, message, status = GrpcCode.UNAVAILABLE, str(exc), 503
    elif isinstance(exc, StorageError):
        code, message, status = GrpcCode.INTERNAL, "Database operation failed", 500
    else:
        logger.error("export failed", exc_info=exc)
        code, message, status = GrpcCode.INTERNAL, "internal error", 500
    line = dumps({"error": {"code": int(code), "message": message, "details": []}}) + b"\n"
    return status, line


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
    buffer = bytearray(_PREFIX + dumps(first) + _SUFFIX)
    try:
        while (image := await deadline.next(rest)) is not None:
            buffer += _PREFIX + dumps(image) + _SUFFIX
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


async def _stream(
    request: web.Request, stream: AsyncIterator[dict[str, Any]], deadline: _Deadline
) -> web.StreamResponse:
    try:
        first = await deadline.next(stream)
    except (TimeoutError, ServiceError, StorageError) as exc:
        status, line = _error_line(exc)
        return web.Response(body=line, status=status, content_type="application/json")
    response = web.StreamResponse(headers={"Cache-Control": "no-store, no-cache"})
    response.content_type = "application/json"
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression(web.ContentCoding.gzip)
    await response.prepare(request)
    watchdog = None
    if deadline.at is not None and request.transport is not None:
        watchdog = asyncio.get_running_loop().call_at(
            deadline.at + _STALL_GRACE_S, request.transport.close
        )
    try:
        if first is not None:
            await _write_all(response, first, stream, deadline)
    except (ConnectionError, asyncio.CancelledError):
        raise
    except Exception as exc:  # the status is sent: the error becomes the last line
        await response.write(_error_line(exc)[1])
    finally:
        if watchdog is not None:
            watchdog.cancel()
    await response.write_eof()
    return response


@docs(
    responses={
        **ERRORS,
        200: {"description": "one JSON line per image", "schema": responses.ExportStreamLine},
    },
    tags=["ImageService"],
    summary="ExportImages: stream every matching image as NDJSON",
    description='One line `{"result":{"image":…}}` per image, oldest update first; an error '
    'after the first line ends the stream with `{"error":{…}}`.',
)
@querystring_schema(requests.ExportImagesParams)
async def export_images(request: web.Request) -> web.StreamResponse:
    params = EXPORT_PARAMS.load(request.query)
    settings = request.app[SETTINGS]
    stream = request.app[IMAGES].export(
        params["query"],
        batch_size=settings.export_batch_size,
        max_time_ms=settings.export_cursor_timeout_ms,
    )
    try:
        return await _stream(request, stream, _Deadline(params["timeout"]))
    finally:
        await stream.aclose()  # closes the cursor, also when the client went away
