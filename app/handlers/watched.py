"""Handlers of watched images: watch, unwatch, list."""

from __future__ import annotations

from aiohttp import web

from app.audit import note_audit
from app.handlers.documented import image_service
from app.http import json_body, json_response, query_params
from app.keys import WATCHES
from app.services.watched import WatchError
from schemas import requests, responses

# Schema instances are reusable and costly to build: one per process, not per request.
WATCH_BODY = requests.WatchImageRequest()
UNWATCH_PARAMS = requests.UnwatchImageParams()


@image_service(responses.WatchImageResponse, body=requests.WatchImageRequest)
async def watch_image(request: web.Request) -> web.Response:
    """WatchImage: keep an image name scanned"""
    body = WATCH_BODY.load(await json_body(request))
    outcome = await request.app[WATCHES].watch(body["name"])
    note_audit(
        request,
        images_affected=[outcome.image_id] if outcome.image_id else None,
        failed=outcome.error_type is not WatchError.NO_ERROR,
        errorType=outcome.error_type.value,
    )
    return json_response(
        request,
        {
            "normalizedName": outcome.normalized_name,
            "errorType": outcome.error_type.value,
            "errorMessage": outcome.error_message,
        },
    )


@image_service(responses.Empty, query=requests.UnwatchImageParams)
async def unwatch_image(request: web.Request) -> web.Response:
    """UnwatchImage: stop watching a name (exact match)"""
    params = query_params(UNWATCH_PARAMS, request)
    await request.app[WATCHES].unwatch(params["name"])
    return json_response(request, {})


@image_service(responses.GetWatchedImagesResponse)
async def list_watched_images(request: web.Request) -> web.Response:
    """GetWatchedImages: every watched name"""
    watched = await request.app[WATCHES].list()
    entries = [
        {"name": w.name, "lastChecked": w.last_checked, "digest": w.digest, "error": w.error}
        for w in watched
    ]
    return json_response(request, {"watchedImages": entries})
