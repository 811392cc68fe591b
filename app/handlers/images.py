"""Handlers of the image endpoints: count, list, get, delete."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from app.audit import note_audit
from app.handlers.documented import image_service
from app.http import json_response, query_params
from app.keys import IMAGES
from app.services.images import Pagination
from schemas import requests, responses
from schemas.image import ImageSchema

# Schema instances are reusable and costly to build: one per process, not per request.
RAW_QUERY = requests.RawQueryParams()
LIST_PARAMS = requests.ListImagesParams()
GET_IMAGE_PARAMS = requests.GetImageParams()
DELETE_PARAMS = requests.DeleteImagesParams()

_IMAGE_ID = {
    "in": "path",
    "name": "id",
    "required": True,
    "schema": {"type": "string"},
    "description": "image digest `sha256:<hex>`; a bare hex digest gets `sha256:`",
}


def _pagination(params: dict[str, Any]) -> Pagination:
    return Pagination(
        limit=params["limit"],
        offset=params["offset"],
        sort_field=params["sort_field"],
        sort_reversed=params["sort_reversed"],
        aggr_func=params["aggr_func"],
        aggr_distinct=params["aggr_distinct"],
    )


@image_service(responses.CountImagesResponse, query=requests.RawQueryParams)
async def count_images(request: web.Request) -> web.Response:
    """CountImages: number of images matching a query"""
    params = query_params(RAW_QUERY, request)
    count = await request.app[IMAGES].count(params["query"])
    return json_response(request, {"count": count})


@image_service(responses.ListImagesPage, query=requests.ListImagesParams)
async def list_images(request: web.Request) -> web.Response:
    """ListImages: image summaries, paginated and sorted"""
    params = query_params(LIST_PARAMS, request)
    pagination = dataclasses.replace(_pagination(params), cursor=params["cursor"])
    page = await request.app[IMAGES].list(
        params["query"], pagination, scan_summary=params["scan_summary"]
    )
    body: dict[str, Any] = {"images": page.images}
    if page.next_cursor is not None:
        body["nextCursor"] = page.next_cursor
    return json_response(request, body)


@image_service(ImageSchema, query=requests.GetImageParams, parameters=[_IMAGE_ID])
async def get_image(request: web.Request) -> web.Response:
    """GetImage: one image with its scan, by digest"""
    params = query_params(GET_IMAGE_PARAMS, request)
    image = await request.app[IMAGES].get(
        request.match_info["id"],
        include_snoozed=params["include_snoozed"],
        strip_description=params["strip_description"],
    )
    return json_response(request, image)


@image_service(responses.DeleteImagesResponse, query=requests.DeleteImagesParams)
async def delete_images(request: web.Request) -> web.Response:
    """DeleteImages: delete the images a query selects (a dry run unless confirm)"""
    params = query_params(DELETE_PARAMS, request)
    query = params["query"] if params["has_query"] else None
    result = await request.app[IMAGES].delete(
        query, confirm=params["confirm"], pagination=_pagination(params)
    )
    note_audit(
        request,
        images_affected=0 if result.dry_run else result.num_deleted,
        dryRun=result.dry_run,
        numDeleted=result.num_deleted,
    )
    return json_response(request, {"numDeleted": result.num_deleted, "dryRun": result.dry_run})
