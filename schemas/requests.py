"""Request schemas: JSON bodies and query strings of the ten endpoints (loaded to snake_case)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, post_load

from schemas.base import ProtoBool, ProtoString
from schemas.enums import AGGREGATION
from schemas.message import ProtoSchema
from schemas.params import (
    QueryBool,
    QueryEnum,
    QueryInt32,
    QuerySchema,
    QueryString,
    client_spelling,
)


def _doc(text: str) -> dict[str, str]:
    """Field metadata for the OpenAPI document."""
    return {"description": text}


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

    image_name = ProtoString(data_key="imageName", metadata=_doc("image to scan, e.g. nginx:1.25"))
    force = ProtoBool(metadata=_doc("bypass the metadata cache and any stored scan"))
    include_snoozed = ProtoBool(
        data_key="includeSnoozed", metadata=_doc("keep snoozed vulnerabilities in the answer")
    )
    cluster = ProtoString(metadata=_doc("delegated scanning target; must be empty here"))
    namespace = ProtoString(metadata=_doc("delegated scanning namespace; must be empty here"))


class WatchImageRequest(RequestSchema):
    """POST /v1/watchedimages body (v1.WatchImageRequest). Loads to ``{"name": str}``."""

    name = ProtoString(metadata=_doc("fully qualified name with a tag and no digest"))


def _empty_sort_field_is_none(data: dict[str, Any]) -> dict[str, Any]:
    if not data["sort_field"]:
        data["sort_field"] = None
    return data


_SORT = "pagination.sortOption"
_AGGR = "pagination.sortOption.aggregateBy"

_QUERY = (
    "search-language query, e.g. `CVE:CVE-2023-5678+Fixable:true` (send + as %2B); "
    "empty matches all"
)
_LIMIT = "page size; 0, negative or above 1000 means 1000"
_OFFSET = "images to skip; negative means 0"
_FIELD = "sort label, e.g. `Image`, `CVSS`, `Image Risk Priority`; default `Last Updated`"
_REVERSED = "descending when true"
_AGGR_FUNC = "sort by COUNT, MIN or MAX of the field over each image's components/CVEs"
_DISTINCT = "with aggrFunc: count or compare distinct values only"


class RawQueryParams(QuerySchema):
    """GET /v1/images and /v1/imagescount (v1.RawQuery).

    Loads to ``{"query": str, "limit": int, "offset": int, "sort_field": str | None,
    "sort_reversed": bool, "aggr_func": "UNSET" | "COUNT" | "MIN" | "MAX",
    "aggr_distinct": bool}``; ``sort_field`` is None when absent or empty.
    """

    query = QueryString(load_default="", metadata=_doc(_QUERY))
    limit = QueryInt32(data_key="pagination.limit", load_default=0, metadata=_doc(_LIMIT))
    offset = QueryInt32(data_key="pagination.offset", load_default=0, metadata=_doc(_OFFSET))
    sort_field = QueryString(data_key=f"{_SORT}.field", load_default=None, metadata=_doc(_FIELD))
    sort_reversed = QueryBool(
        data_key=f"{_SORT}.reversed", load_default=False, metadata=_doc(_REVERSED)
    )
    aggr_func = QueryEnum(AGGREGATION, data_key=f"{_AGGR}.aggrFunc", metadata=_doc(_AGGR_FUNC))
    aggr_distinct = QueryBool(
        data_key=f"{_AGGR}.distinct", load_default=False, metadata=_doc(_DISTINCT)
    )

    @post_load
    def _finish(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _empty_sort_field_is_none(data)


_CURSOR = (
    "extension: a page's `nextCursor`, to continue right after its last image (keyset paging; "
    "send the same query and sort, and no offset)"
)


_SCAN_SUMMARY = (
    "extension: each image also gets `scanSummary` (OS, scan time, top CVSS, distinct CVEs by "
    "severity), as the console's image table shows"
)


class ListImagesParams(RawQueryParams):
    """GET /v1/images: RawQuery plus our keyset cursor and scan summary (extensions). Loads to
    the RawQueryParams dict plus ``{"cursor": str | None, "scan_summary": bool}``."""

    cursor = QueryString(data_key="pagination.cursor", load_default=None, metadata=_doc(_CURSOR))
    scan_summary = QueryBool(
        data_key="scanSummary", load_default=False, metadata=_doc(_SCAN_SUMMARY)
    )


class DeleteImagesParams(QuerySchema):
    """DELETE /v1/images (v1.DeleteImagesRequest): the RawQuery keys under ``query.``, ``confirm``.

    Loads to the RawQueryParams dict plus ``{"confirm": bool, "has_query": bool}``;
    ``has_query`` is True when any ``query.*`` key was given (even empty or unknown), which
    is how grpc-gateway decides that the ``query`` message is set.
    """

    query = QueryString(
        data_key="query.query",
        load_default="",
        metadata=_doc(_QUERY.replace("empty matches all", "required; `Image:*` selects all")),
    )
    limit = QueryInt32(
        data_key="query.pagination.limit", load_default=0, metadata=_doc("0 = no limit")
    )
    offset = QueryInt32(data_key="query.pagination.offset", load_default=0, metadata=_doc(_OFFSET))
    sort_field = QueryString(
        data_key=f"query.{_SORT}.field", load_default=None, metadata=_doc(_FIELD)
    )
    sort_reversed = QueryBool(
        data_key=f"query.{_SORT}.reversed", load_default=False, metadata=_doc(_REVERSED)
    )
    aggr_func = QueryEnum(
        AGGREGATION, data_key=f"query.{_AGGR}.aggrFunc", metadata=_doc(_AGGR_FUNC)
    )
    aggr_distinct = QueryBool(
        data_key=f"query.{_AGGR}.distinct", load_default=False, metadata=_doc(_DISTINCT)
    )
    confirm = QueryBool(
        load_default=False, metadata=_doc("delete for real; otherwise only count (dry run)")
    )

    @post_load(pass_original=True)
    def _finish(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict[str, Any]:
        data["has_query"] = any(str(key).startswith("query.") for key in original)
        return _empty_sort_field_is_none(data)


class GetImageParams(QuerySchema):
    """GET /v1/images/{id}. Loads to ``{"include_snoozed": bool, "strip_description": bool}``."""

    include_snoozed = QueryBool(
        data_key="includeSnoozed",
        load_default=False,
        metadata=_doc("keep suppressed, deferred and false-positive vulnerabilities"),
    )
    strip_description = QueryBool(
        data_key="stripDescription",
        load_default=False,
        metadata=_doc("blank every vulnerability summary"),
    )


class ExportImagesParams(QuerySchema):
    """GET /v1/export/images. Loads to ``{"query": str, "timeout": int}`` (seconds; 0 = none)."""

    query = QueryString(load_default="", metadata=_doc(_QUERY))
    timeout = QueryInt32(
        load_default=0,
        metadata=_doc("seconds for the whole export; 0 = none, negative = already expired"),
    )


class UnwatchImageParams(QuerySchema):
    """DELETE /v1/watchedimages. Loads to ``{"name": str}``."""

    name = QueryString(
        load_default="", metadata=_doc("exact watched name, as WatchImage normalized it")
    )
