"""Middleware: request ids, the read deadline, no-cache headers, and every error in the upstream
error shape."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.audit import note_refusal
from app.error_rendering import describe, error_response
from app.hardening import READ_DEADLINE, request_id
from app.keys import CLIENT_GONE, REQUEST_ID, SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Headers of aiohttp's own errors the rendered error keeps (405: the methods the path has).
_KEPT_HEADERS = ("Allow",)


def _http_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    response = error_response(describe(exc, request))
    for name in _KEPT_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = request_id(request.headers.get("X-Request-Id"))
    timeout = request.app[SETTINGS].request_read_timeout_s
    request[READ_DEADLINE] = asyncio.get_running_loop().time() + timeout
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        note_refusal(request, exc)
        response = _http_error(exc, request)
    except ConnectionResetError:
        # The client hung up while its body was read: no one to answer, nothing went wrong here.
        request[CLIENT_GONE] = True
        return web.Response(status=400)
    except Exception as exc:
        note_refusal(request, exc)
        response = error_response(describe(exc, request))
    if not response.prepared:
        response.headers["X-Request-Id"] = request[REQUEST_ID]
        if request.path.startswith("/v1/"):
            response.headers["Cache-Control"] = "no-store, no-cache"
    if response.status == web.HTTPRequestTimeout.status_code and not response.prepared:
        # Answer and hang up: aiohttp would otherwise linger reading the rest of a trickled body.
        await response.prepare(request)
        await response.write_eof()
        request.protocol.force_close()
    return response
