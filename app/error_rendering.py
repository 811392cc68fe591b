"""Every error the client sees: one table from error type to gRPC code, HTTP status and message
suffix, and one renderer for the JSON error body and the export stream's error line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web
from marshmallow import ValidationError

from app.errors import (
    DeadlineExceeded,
    DeadlineExceededPlain,
    GrpcCode,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from app.failures import note_rendered
from app.hardening import bounded_message
from app.http import dumps
from app.keys import REQUEST_ID
from app.scanner import errors as scan
from storage.errors import BadQuery, DocumentTooLarge, QueryTimeout, StorageError, StoreUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error as the client gets it."""

    code: GrpcCode
    status: int
    message: str
    retry_after: float | None = None
    # the WWW-Authenticate header of a 401
    challenge: str | None = None


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


def _http_text(exc: web.HTTPException) -> str:
    """aiohttp's own text unless it is only its default "<status>: <reason>"."""
    text = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason
    return text.strip() or exc.reason


def _storage_text(_: StorageError) -> str:
    return "Database operation failed"


@dataclass(frozen=True, slots=True)
class ErrorKind:
    code: GrpcCode
    # None: aiohttp's exception keeps its own status
    status: int | None
    # upstream appends the sentinel text of its error class to the message
    suffix: str = ""
    text: Callable[[Any], str] = str

    def describe(self, exc: BaseException) -> ApiError:
        text = self.text(exc)
        message = bounded_message(f"{text}: {self.suffix}" if self.suffix else text)
        status = self.status if self.status is not None else getattr(exc, "status", 500)
        retry_after = exc.retry_after if isinstance(exc, ServiceError | scan.ScanError) else None
        return ApiError(self.code, status, message, retry_after)


_INVALID = ErrorKind(GrpcCode.INVALID_ARGUMENT, 400, "invalid arguments")
_UNAVAILABLE = ErrorKind(GrpcCode.UNAVAILABLE, 503)
_PRECONDITION = ErrorKind(GrpcCode.FAILED_PRECONDITION, 400)


def _aiohttp(code: GrpcCode) -> ErrorKind:
    return ErrorKind(code, None, text=_http_text)


# Looked up along the exception's MRO: the most specific type listed wins.
ERROR_KINDS: dict[type[BaseException], ErrorKind] = {
    # what services refuse
    ServiceError: ErrorKind(GrpcCode.INTERNAL, 500),
    InvalidArgument: _INVALID,
    NotFound: ErrorKind(GrpcCode.NOT_FOUND, 404, "not found"),
    ResourceExhausted: ErrorKind(GrpcCode.RESOURCE_EXHAUSTED, 429, "resource exhausted"),
    DeadlineExceeded: ErrorKind(GrpcCode.DEADLINE_EXCEEDED, 504, "deadline exceeded"),
    DeadlineExceededPlain: ErrorKind(GrpcCode.DEADLINE_EXCEEDED, 504),
    Unavailable: _UNAVAILABLE,
    # the message says it all (upstream: `credentials not found`, `not authorized: …`)
    Unauthenticated: ErrorKind(GrpcCode.UNAUTHENTICATED, 401),
    PermissionDenied: ErrorKind(GrpcCode.PERMISSION_DENIED, 403),
    # a request the wire schemas refuse
    ValidationError: ErrorKind(
        GrpcCode.INVALID_ARGUMENT, 400, "invalid arguments", validation_message
    ),
    # aiohttp's own answers: unknown path or method, a body over the size limit
    web.HTTPException: _aiohttp(GrpcCode.UNKNOWN),
    web.HTTPBadRequest: _aiohttp(GrpcCode.INVALID_ARGUMENT),
    web.HTTPUnauthorized: _aiohttp(GrpcCode.UNAUTHENTICATED),
    web.HTTPForbidden: _aiohttp(GrpcCode.PERMISSION_DENIED),
    web.HTTPNotFound: _aiohttp(GrpcCode.NOT_FOUND),
    web.HTTPMethodNotAllowed: _aiohttp(GrpcCode.UNIMPLEMENTED),
    web.HTTPRequestEntityTooLarge: _aiohttp(GrpcCode.INVALID_ARGUMENT),
    web.HTTPTooManyRequests: _aiohttp(GrpcCode.RESOURCE_EXHAUSTED),
    # the listener's refusals (app/listener.py, app/http.py)
    web.HTTPRequestTimeout: _aiohttp(GrpcCode.DEADLINE_EXCEEDED),
    web.HTTPUnsupportedMediaType: _aiohttp(GrpcCode.INVALID_ARGUMENT),
    web.HTTPRequestURITooLong: _aiohttp(GrpcCode.INVALID_ARGUMENT),
    web.HTTPRequestHeaderFieldsTooLarge: _aiohttp(GrpcCode.INVALID_ARGUMENT),
    web.HTTPServiceUnavailable: _aiohttp(GrpcCode.UNAVAILABLE),
    # the store; any other storage error gets a generic message
    StorageError: ErrorKind(GrpcCode.INTERNAL, 500, text=_storage_text),
    BadQuery: _INVALID,
    DocumentTooLarge: _INVALID,
    QueryTimeout: ErrorKind(GrpcCode.DEADLINE_EXCEEDED, 504, "deadline exceeded"),
    StoreUnavailable: _UNAVAILABLE,
    # the scanner; a kind not listed is a failure on the registry's side
    scan.ScanError: _UNAVAILABLE,
    scan.ManifestUnknown: ErrorKind(GrpcCode.NOT_FOUND, 404),
    scan.DestinationRefused: ErrorKind(GrpcCode.INVALID_ARGUMENT, 400),
    scan.RegistryDenied: ErrorKind(GrpcCode.PERMISSION_DENIED, 403),
    scan.RegistryTimeout: ErrorKind(GrpcCode.DEADLINE_EXCEEDED, 504),
    scan.RegistryUnavailable: _UNAVAILABLE,
    scan.RegistryProtocolError: _UNAVAILABLE,
    scan.DigestMismatch: _UNAVAILABLE,
    scan.UnsupportedManifest: _PRECONDITION,
    scan.LayerLimitExceeded: _PRECONDITION,
    scan.LayerFormatError: _PRECONDITION,
    # our worker process died or broke on the layer: not the image's fault, not the registry's
    scan.LayerAnalysisFailed: ErrorKind(GrpcCode.INTERNAL, 500),
}

_UNEXPECTED = ApiError(GrpcCode.INTERNAL, 500, "internal error")
BEARER_CHALLENGE = 'Bearer realm="image-service"'


def _with_challenge(error: ApiError, request: web.Request) -> ApiError:
    """Every 401 says how to authenticate (RFC 6750), and whether the token given was refused."""
    if error.status != 401:
        return error
    given = "Authorization" in request.headers
    challenge = BEARER_CHALLENGE + (', error="invalid_token"' if given else "")
    return replace(error, challenge=challenge)


def describe(exc: BaseException, request: web.Request) -> ApiError:
    """The client's view of any exception; one not in the table is logged and becomes a 500.

    The request keeps what it was answered with, for the failure log (app/failures.py)."""
    for cls in type(exc).__mro__:
        kind = ERROR_KINDS.get(cls)
        if kind is not None:
            error = _with_challenge(kind.describe(exc), request)
            note_rendered(request, exc, error)
            return error
    note_rendered(request, exc, _UNEXPECTED)
    logger.error(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.path,
        request.get(REQUEST_ID, "-"),
        exc_info=exc,
    )
    return _UNEXPECTED


def error_payload(error: ApiError) -> dict[str, Any]:
    """google.rpc.Status: the export stream's error, and the start of the unary body."""
    return {"code": int(error.code), "message": error.message, "details": []}


def error_body(error: ApiError) -> bytes:
    """The unary error's JSON: the payload with `error` repeating the message."""
    return dumps({**error_payload(error), "error": error.message})


def error_response(error: ApiError) -> web.Response:
    """The unary error: its body and its status."""
    response = web.Response(
        body=error_body(error), status=error.status, content_type="application/json"
    )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(error.retry_after)))
    if error.challenge is not None:
        response.headers["WWW-Authenticate"] = error.challenge
    return response


def export_error_line(error: ApiError) -> bytes:
    """The export stream's error: `{"error": {code, message, details}}` and a newline."""
    return dumps({"error": error_payload(error)}) + b"\n"
