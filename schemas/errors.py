"""Error messages: the unary error body, the export stream's error line, error text helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from schemas.base import AnyObject, Int32, Message, ProtoSchema, ProtoString, Repeated


class RpcStatus(ProtoSchema):
    """google.rpc.Status: ``{code, message, details}`` (the export stream's error payload)."""

    code = Int32()
    message = ProtoString()
    details = Repeated(AnyObject())


class ErrorBody(RpcStatus):
    """The unary error body (common.ExtendedRpcStatus): ``error`` repeats ``message``."""

    error = ProtoString()


class ExportErrorLine(ProtoSchema):
    """The last line of a failed export stream: ``{"error": {code, message, details}}``."""

    error = Message(RpcStatus)


def error_body(code: int, message: str) -> dict[str, Any]:
    """The unary error body for a gRPC ``code`` and ``message``."""
    return {"code": code, "message": message, "details": [], "error": message}


def export_error_line(code: int, message: str) -> dict[str, Any]:
    """The export stream's error line for a gRPC ``code`` and ``message``."""
    return {"error": {"code": code, "message": message, "details": []}}


def flatten_messages(messages: Any, prefix: str = "") -> list[str]:
    """Turn marshmallow's nested error messages into ``"a.b.0.c: message"`` lines."""
    if isinstance(messages, Mapping):
        out: list[str] = []
        for key, sub in messages.items():
            path = str(key) if key != "_schema" else ""
            joined = f"{prefix}.{path}" if prefix and path else prefix or path
            out.extend(flatten_messages(sub, joined))
        return out
    if isinstance(messages, list | tuple):
        return [line for item in messages for line in flatten_messages(item, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def describe_error(err: ValidationError) -> str:
    """One-line text of a ValidationError naming every failing path, for an error message."""
    return "; ".join(flatten_messages(err.messages))
