"""Service errors and the one table that maps them to gRPC codes and HTTP statuses."""

from __future__ import annotations

from enum import IntEnum


class GrpcCode(IntEnum):
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    UNAUTHENTICATED = 16


# grpc-gateway's code -> HTTP status mapping, as upstream clients see it.
HTTP_STATUS: dict[GrpcCode, int] = {
    GrpcCode.CANCELLED: 499,
    GrpcCode.UNKNOWN: 500,
    GrpcCode.INVALID_ARGUMENT: 400,
    GrpcCode.DEADLINE_EXCEEDED: 504,
    GrpcCode.NOT_FOUND: 404,
    GrpcCode.ALREADY_EXISTS: 409,
    GrpcCode.PERMISSION_DENIED: 403,
    GrpcCode.RESOURCE_EXHAUSTED: 429,
    GrpcCode.FAILED_PRECONDITION: 400,
    GrpcCode.ABORTED: 409,
    GrpcCode.UNIMPLEMENTED: 501,
    GrpcCode.INTERNAL: 500,
    GrpcCode.UNAVAILABLE: 503,
    GrpcCode.UNAUTHENTICATED: 401,
}


class ServiceError(Exception):
    """An error with a message fit for the client; subclasses fix the gRPC code."""

    code: GrpcCode = GrpcCode.INTERNAL
    # upstream appends the sentinel text of the error class to the message
    suffix: str = ""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = f"{message}: {self.suffix}" if self.suffix else message
        self.retry_after = retry_after

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


class InvalidArgument(ServiceError):
    code = GrpcCode.INVALID_ARGUMENT
    suffix = "invalid arguments"


class NotFound(ServiceError):
    code = GrpcCode.NOT_FOUND
    suffix = "not found"


class ResourceExhausted(ServiceError):
    code = GrpcCode.RESOURCE_EXHAUSTED
    suffix = "resource exhausted"


class DeadlineExceeded(ServiceError):
    code = GrpcCode.DEADLINE_EXCEEDED
    suffix = "deadline exceeded"


class Unavailable(ServiceError):
    code = GrpcCode.UNAVAILABLE


class Internal(ServiceError):
    code = GrpcCode.INTERNAL


class PermissionDenied(ServiceError):
    code = GrpcCode.PERMISSION_DENIED


class FailedPrecondition(ServiceError):
    code = GrpcCode.FAILED_PRECONDITION


class DeadlineExceededPlain(DeadlineExceeded):
    """A deadline whose message already says so."""

    suffix = ""


class NotFoundPlain(NotFound):
    """Not found, with a message that already says what and where."""

    suffix = ""
