"""Handlers of scanning and watched images."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, json_schema, querystring_schema, response_schema

from app.http import json_body, json_response
from app.keys import SCANS, WATCHES
from app.openapi import ERRORS
from schemas import requests, responses
from schemas.image import ImageSchema

# Schema instances are reusable and costly to build: one per process, not per request.
SCAN_BODY = requests.ScanImageRequest()
WATCH_BODY = requests.WatchImageRequest()
UNWATCH_PARAMS = requests.UnwatchImageParams()


@docs(
    responses=ERRORS,
    tags=["ImageService"],
    summary="ScanImage: scan an image by name and store the result",
    description=(
        "Pulls the manifest, config and layers from the registry (cached metadata and stored "
        "scans are reused unless `force`), matches the packages against the OSV feed, stores "
        "and returns the image. Errors: 400 bad name, delegation, schema 1 or a layer over a "
        "limit; 403 credentials refused; 404 unknown repository, tag or platform; 429 all scan "
        "slots busy (`Retry-After`); 503 registry unreachable or content not matching its "
        "digest; 504 registry or scan too slow."
    ),
)
@json_schema(requests.ScanImageRequest)
@response_schema(ImageSchema, 200)
async def scan_image(request: web.Request) -> web.Response:
    body = SCAN_BODY.load(await json_body(request))
    image = await request.app[SCANS].scan_image(
        body["image_name"],
        force=body["force"],
        include_snoozed=body["include_snoozed"],
        cluster=body["cluster"],
        namespace=body["namespace"],
    )
    return json_response(request, image)


@docs(responses=ERRORS, tags=["ImageService"], summary="WatchImage: keep an image name scanned")
@json_schema(requests.WatchImageRequest)
@response_schema(responses.WatchImageResponse, 200)
async def watch_image(request: web.Request) -> web.Response:
    body = WATCH_BODY.load(await json_body(request))
    outcome = await request.app[WATCHES].watch(body["name"])
    return json_response(
        request,
        {
            "normalizedName": outcome.normalized_name,
            "errorType": outcome.error_type.value,
            "errorMessage": outcome.error_message,
        },
    )


@docs(
    responses=ERRORS,
    tags=["ImageService"],
    summary="UnwatchImage: stop watching a name (exact match)",
)
@querystring_schema(requests.UnwatchImageParams)
@response_schema(responses.Empty, 200)
async def unwatch_image(request: web.Request) -> web.Response:
    params = UNWATCH_PARAMS.load(request.query)
    await request.app[WATCHES].unwatch(params["name"])
    return json_response(request, {})


@docs(responses=ERRORS, tags=["ImageService"], summary="GetWatchedImages: every watched name")
@response_schema(responses.GetWatchedImagesResponse, 200)
async def list_watched_images(request: web.Request) -> web.Response:
    watched = await request.app[WATCHES].list()
    entries = [
        {"name": w.name, "lastChecked": w.last_checked, "digest": w.digest, "error": w.error}
        for w in watched
    ]
    return json_response(request, {"watchedImages": entries})
