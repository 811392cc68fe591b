"""What a service refuses, in the client's terms.

Services raise these (and the scanner its `app.scanner.errors`); `app/error_rendering.py` holds
the one table that gives each error type its gRPC code, HTTP status and message suffix.
"""

from __future__ import annotations

from enum import IntEnum


class GrpcCode(IntEnum):
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    UNAUTHENTICATED = 16


class ServiceError(Exception):
    """An error with a message fit for the client; its class decides the code and status."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class InvalidArgument(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class ResourceExhausted(ServiceError):
    pass


class Unauthenticated(ServiceError):
    """No credentials, or credentials that are unknown, expired or revoked."""


class PermissionDenied(ServiceError):
    """The caller is known but its roles do not allow the operation."""


class DeadlineExceeded(ServiceError):
    pass


class Unavailable(ServiceError):
    """The service cannot serve right now (not ready); the message says why."""


class DeadlineExceededPlain(DeadlineExceeded):
    """A deadline whose message already says so: no suffix."""
