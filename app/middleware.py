"""Middleware: request ids, no-cache headers, and every error in the upstream error shape."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable

from aiohttp import web
from marshmallow import ValidationError

from app.errors import HTTP_STATUS, GrpcCode, ServiceError
from app.http import dumps
from app.keys import REQUEST_ID
from storage.errors import (
    BadQuery,
    DocumentTooLarge,
    QueryTimeout,
    StorageError,
    StoreUnavailable,
)

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp's own HTTP errors, as gRPC codes.
_HTTP_TO_CODE = {
    400: GrpcCode.INVALID_ARGUMENT,
    401: GrpcCode.UNAUTHENTICATED,
    403: GrpcCode.PERMISSION_DENIED,
    404: GrpcCode.NOT_FOUND,
    405: GrpcCode.UNIMPLEMENTED,
    413: GrpcCode.INVALID_ARGUMENT,
    429: GrpcCode.RESOURCE_EXHAUSTED,
}


def error_body(code: GrpcCode, message: str) -> bytes:
    return dumps({"code": int(code), "message": message, "details": [], "error": message})


def error_response(
    code: GrpcCode, message: str, *, status: int | None = None, retry_after: float | None = None
) -> web.Response:
    response = web.Response(
        body=error_body(code, message),
        status=status or HTTP_STATUS[code],
        content_type="application/json",
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def validation_message(error: ValidationError) -> str:
    messages = error.normalized_messages()
    if isinstance(messages, dict):
        parts = [f"{key}: {_flatten(value)}" for key, value in messages.items()]
        return "invalid request: " + "; ".join(parts)
    return f"invalid request: {_flatten(messages)}"


def _flatten(value: object) -> str:
    if isinstance(value, list):
        return " ".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in value.items())
    return str(value)


def classify(exc: BaseException) -> tuple[GrpcCode, str, int]:
    """gRPC code, client message and HTTP status for any exception; logs the unexpected."""
    if isinstance(exc, ServiceError):
        return exc.code, exc.message, exc.http_status
    if isinstance(exc, ValidationError):
        message = f"{validation_message(exc)}: invalid arguments"
        return GrpcCode.INVALID_ARGUMENT, message, 400
    if isinstance(exc, web.HTTPException):
        code = _HTTP_TO_CODE.get(exc.status, GrpcCode.UNKNOWN)
        message = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason
        return code, message.strip() or exc.reason, exc.status
    if isinstance(exc, DocumentTooLarge):
        return GrpcCode.INVALID_ARGUMENT, f"{exc}: invalid arguments", 400
    if isinstance(exc, BadQuery):
        return GrpcCode.INVALID_ARGUMENT, f"{exc}: invalid arguments", 400
    if isinstance(exc, QueryTimeout):
        return GrpcCode.DEADLINE_EXCEEDED, f"{exc}: deadline exceeded", 504
    if isinstance(exc, StoreUnavailable):
        return GrpcCode.UNAVAILABLE, str(exc), 503
    if isinstance(exc, StorageError):
        return GrpcCode.INTERNAL, "Database operation failed", 500
    logger.error("unhandled error", exc_info=exc)
    return GrpcCode.INTERNAL, "internal error", 500


def render_exception(exc: Exception, request: web.Request) -> web.Response:
    """The error-shaped response for any exception a handler raised."""
    if not isinstance(exc, ServiceError | ValidationError | web.HTTPException | StorageError):
        logger.error(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.path,
            request.get(REQUEST_ID, "-"),
        )
    code, message, status = classify(exc)
    retry_after = exc.retry_after if isinstance(exc, ServiceError) else None
    return error_response(code, message, status=status, retry_after=retry_after)


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = request.headers.get("X-Request-Id") or os.urandom(8).hex()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = render_exception(exc, request)
    except Exception as exc:
        response = render_exception(exc, request)
    if not response.prepared:
        response.headers["X-Request-Id"] = request[REQUEST_ID]
        if request.path.startswith("/v1/"):
            response.headers["Cache-Control"] = "no-store, no-cache"
    return response
