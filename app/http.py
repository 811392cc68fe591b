"""JSON responses in the wire format: orjson, RFC 3339 `Z` timestamps, optional `?pretty`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

import orjson
from aiohttp import web

from app.errors import InvalidArgument
from app.keys import JSON_BODY, SETTINGS

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
# Upstream gzips /v1 answers above this size when the client accepts it.
GZIP_MIN_BYTES = 1400


def dumps(data: Any, *, pretty: bool = False) -> bytes:
    return orjson.dumps(data, option=_OPTIONS | (orjson.OPT_INDENT_2 if pretty else 0))


class QueryLoader(Protocol):
    def load_query(self, query: Mapping[str, Any]) -> dict[str, Any]: ...


def query_params(schema: QueryLoader, request: web.Request) -> dict[str, Any]:
    """The request's query parameters loaded by ``schema``; no query string is not parsed."""
    return schema.load_query(request.query if request.query_string else {})


def json_response(request: web.Request, data: Any, *, status: int = 200) -> web.Response:
    body = dumps(data, pretty=bool(request.query_string) and "pretty" in request.query)
    response = web.Response(body=body, status=status, content_type="application/json")
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression(web.ContentCoding.gzip)
    return response


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is `{}`.

    Only `Content-Type: application/json` is read: a browser sends other types across origins
    without asking first (no CORS preflight), so a web page could otherwise trigger a scan.

    Raises:
        HTTPUnsupportedMediaType: a body of another content type (415).
        HTTPRequestTimeout: the body did not arrive within the read timeout (408).
        InvalidArgument: the body is not valid JSON, or not an object.
    """
    if request.body_exists and request.content_type != "application/json":
        given = request.headers.get("Content-Type")
        raise web.HTTPUnsupportedMediaType(
            text="request body must be JSON sent with Content-Type application/json, "
            + (f'not "{given}"' if given else "and none was given")
        )
    try:
        async with asyncio.timeout(request.app[SETTINGS].request_read_timeout_s):
            raw = await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="the request body did not arrive in time") from None
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"malformed JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidArgument("request body must be a JSON object")
    request[JSON_BODY] = data
    return data
