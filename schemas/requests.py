"""Request schemas: JSON bodies and query strings of the ten endpoints (loaded to snake_case)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, post_load

from schemas.base import ProtoBool, ProtoSchema, ProtoString
from schemas.enums import AGGREGATION
from schemas.params import (
    QueryBool,
    QueryEnum,
    QueryInt32,
    QuerySchema,
    QueryString,
    client_spelling,
)


class RequestSchema(ProtoSchema):
    """Base of the JSON bodies: snake_case names out; errors name keys as the client sent them."""

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        renamed = client_spelling(type(self), error, data)
        if renamed is not None:
            raise renamed


class ScanImageRequest(RequestSchema):
    """POST /v1/images/scan body (v1.ScanImageRequest).

    Loads to ``{"image_name": str, "force": bool, "include_snoozed": bool, "cluster": str,
    "namespace": str}``; absent or ``null`` keys take ``""``/``False``.
    """

    image_name = ProtoString(data_key="imageName")
    force = ProtoBool()
    include_snoozed = ProtoBool(data_key="includeSnoozed")
    cluster = ProtoString()
    namespace = ProtoString()


class WatchImageRequest(RequestSchema):
    """POST /v1/watchedimages body (v1.WatchImageRequest). Loads to ``{"name": str}``."""

    name = ProtoString()


def _empty_sort_field_is_none(data: dict[str, Any]) -> dict[str, Any]:
    if not data["sort_field"]:
        data["sort_field"] = None
    return data


_SORT = "pagination.sortOption"
_AGGR = "pagination.sortOption.aggregateBy"


class RawQueryParams(QuerySchema):
    """GET /v1/images and /v1/imagescount (v1.RawQuery).

    Loads to ``{"query": str, "limit": int, "offset": int, "sort_field": str | None,
    "sort_reversed": bool, "aggr_func": "UNSET" | "COUNT" | "MIN" | "MAX",
    "aggr_distinct": bool}``; ``sort_field`` is None when absent or empty.
    """

    query = QueryString(load_default="")
    limit = QueryInt32(data_key="pagination.limit", load_default=0)
    offset = QueryInt32(data_key="pagination.offset", load_default=0)
    sort_field = QueryString(data_key=f"{_SORT}.field", load_default=None)
    sort_reversed = QueryBool(data_key=f"{_SORT}.reversed", load_default=False)
    aggr_func = QueryEnum(AGGREGATION, data_key=f"{_AGGR}.aggrFunc")
    aggr_distinct = QueryBool(data_key=f"{_AGGR}.distinct", load_default=False)

    @post_load
    def _finish(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _empty_sort_field_is_none(data)


class DeleteImagesParams(QuerySchema):
    """DELETE /v1/images (v1.DeleteImagesRequest): the RawQuery keys under ``query.``, ``confirm``.

    Loads to the RawQueryParams dict plus ``{"confirm": bool, "has_query": bool}``;
    ``has_query`` is True when any ``query.*`` key was given (even empty or unknown), which
    is how grpc-gateway decides that the ``query`` message is set.
    """

    query = QueryString(data_key="query.query", load_default="")
    limit = QueryInt32(data_key="query.pagination.limit", load_default=0)
    offset = QueryInt32(data_key="query.pagination.offset", load_default=0)
    sort_field = QueryString(data_key=f"query.{_SORT}.field", load_default=None)
    sort_reversed = QueryBool(data_key=f"query.{_SORT}.reversed", load_default=False)
    aggr_func = QueryEnum(AGGREGATION, data_key=f"query.{_AGGR}.aggrFunc")
    aggr_distinct = QueryBool(data_key=f"query.{_AGGR}.distinct", load_default=False)
    confirm = QueryBool(load_default=False)

    @post_load(pass_original=True)
    def _finish(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict[str, Any]:
        data["has_query"] = any(str(key).startswith("query.") for key in original)
        return _empty_sort_field_is_none(data)


class GetImageParams(QuerySchema):
    """GET /v1/images/{id}. Loads to ``{"include_snoozed": bool, "strip_description": bool}``."""

    include_snoozed = QueryBool(data_key="includeSnoozed", load_default=False)
    strip_description = QueryBool(data_key="stripDescription", load_default=False)


class ExportImagesParams(QuerySchema):
    """GET /v1/export/images. Loads to ``{"query": str, "timeout": int}`` (seconds; 0 = none)."""

    query = QueryString(load_default="")
    timeout = QueryInt32(load_default=0)


class UnwatchImageParams(QuerySchema):
    """DELETE /v1/watchedimages. Loads to ``{"name": str}``."""

    name = QueryString(load_default="")
