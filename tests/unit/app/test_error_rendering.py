"""The error table: each kind of error has its code, status and suffix; the unknown are logged."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from marshmallow import ValidationError

from app.error_rendering import describe, error_response, export_error_line
from app.errors import (
    DeadlineExceededPlain,
    GrpcCode,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from app.keys import REQUEST_ID
from app.scanner import errors as scan
from storage.errors import ConcurrentUpdate, QueryTimeout

DENIED = 'not authorized: "READ_WRITE_ACCESS" for "Image"'


@pytest.fixture
def request_() -> web.Request:
    request = make_mocked_request("GET", "/v1/images")
    request[REQUEST_ID] = "r-1"
    return request


@pytest.mark.parametrize(
    ("exc", "code", "status", "message"),
    [
        (InvalidArgument("bad"), GrpcCode.INVALID_ARGUMENT, 400, "bad: invalid arguments"),
        (DeadlineExceededPlain("slow scan"), GrpcCode.DEADLINE_EXCEEDED, 504, "slow scan"),
        (Unauthenticated("credentials not found"), 16, 401, "credentials not found"),
        (PermissionDenied(DENIED), GrpcCode.PERMISSION_DENIED, 403, DENIED),
        (ValidationError({"a": ["no."]}), 3, 400, "invalid request: a: no.: invalid arguments"),
        (web.HTTPMethodNotAllowed("POST", ["GET"]), 12, 405, "Method Not Allowed"),
        (web.HTTPNotAcceptable(), GrpcCode.UNKNOWN, 406, "Not Acceptable"),
        (QueryTimeout("too slow"), GrpcCode.DEADLINE_EXCEEDED, 504, "too slow: deadline exceeded"),
        (ConcurrentUpdate("x"), GrpcCode.INTERNAL, 500, "Database operation failed"),
        (scan.ManifestUnknown("no tag"), GrpcCode.NOT_FOUND, 404, "no tag"),
        (scan.LayerFormatError("not tar"), GrpcCode.FAILED_PRECONDITION, 400, "not tar"),
        (scan.LayerAnalysisFailed("worker died"), GrpcCode.INTERNAL, 500, "worker died"),
        (scan.ScanError("odd"), GrpcCode.UNAVAILABLE, 503, "odd"),
    ],
)
def test_each_kind_of_error(
    request_: web.Request, exc: BaseException, code: int, status: int, message: str
) -> None:
    error = describe(exc, request_)
    assert (error.code, error.status, error.message) == (code, status, message)


def test_the_body_and_the_export_line_say_the_same(request_: web.Request) -> None:
    error = describe(ResourceExhausted("busy", retry_after=0.2), request_)
    response = error_response(error)
    assert response.status == 429
    assert response.headers["Retry-After"] == "1"
    body = json.loads(response.body)  # type: ignore[arg-type]
    line = json.loads(export_error_line(error))
    assert body == {**line["error"], "error": "busy: resource exhausted"}


def test_an_unknown_error_is_logged_once_as_a_500(
    request_: web.Request, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise KeyError("boom")
    except KeyError as exc:
        error = describe(exc, request_)
    assert (error.code, error.status, error.message) == (13, 500, "internal error")
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "r-1" in record.getMessage()
    assert record.exc_info is not None
