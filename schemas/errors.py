"""The error messages' schemas, for the OpenAPI document (app/error_rendering.py renders them)."""

from __future__ import annotations

from schemas.base import AnyObject, Int32, ProtoString, Repeated
from schemas.message import ProtoSchema


class RpcStatus(ProtoSchema):
    """google.rpc.Status: ``{code, message, details}`` (the export stream's error payload)."""

    code = Int32()
    message = ProtoString()
    details = Repeated(AnyObject())


class ErrorBody(RpcStatus):
    """The unary error body (common.ExtendedRpcStatus): ``error`` repeats ``message``."""

    error = ProtoString()
