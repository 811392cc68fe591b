"""CORS, off unless origins are configured: then those exact origins get preflight answers and
`Access-Control-Allow-Origin`; any other origin gets no CORS header, so browsers keep their pages
out."""

from __future__ import annotations

from collections.abc import Collection

from aiohttp import web

ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-Id"
EXPOSED_HEADERS = "X-Request-Id, Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE_S = 600


def preflight_answer(
    request: web.Request, allowed: frozenset[str], methods: Collection[str]
) -> web.Response | None:
    """The answer to a CORS preflight from an allowed origin for a path answering `methods`,
    None for any other request.

    Answered before authentication: a browser's preflight carries no credentials.
    """
    if (
        request.method == "OPTIONS"
        and request.headers.get("Origin") in allowed
        and "Access-Control-Request-Method" in request.headers
    ):
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(methods))
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        return response
    return None


def setup_cors(app: web.Application, origins: Collection[str]) -> frozenset[str]:
    """Let `origins` read answers; returns them, for the pipeline to answer their preflights.
    Nothing when there are none."""
    allowed = frozenset(origins)
    if not allowed:
        return allowed

    async def allow_origin(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers.add("Vary", "Origin")  # the answer depends on it: caches must know

    app.on_response_prepare.append(allow_origin)
    return allowed
