"""Middleware: request ids, no-cache headers, and every error in the upstream error shape."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.error_rendering import describe, error_response
from app.keys import REQUEST_ID

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = request.headers.get("X-Request-Id") or os.urandom(8).hex()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(describe(exc, request))
    except Exception as exc:
        response = error_response(describe(exc, request))
    if not response.prepared:
        response.headers["X-Request-Id"] = request[REQUEST_ID]
        if request.path.startswith("/v1/"):
            response.headers["Cache-Control"] = "no-store, no-cache"
    return response
