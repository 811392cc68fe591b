"""Handlers of scanning: ScanImage and the registry-cache invalidation."""

from __future__ import annotations

from aiohttp import web

from app.audit import note_audit
from app.handlers.documented import image_service
from app.http import json_body, json_response
from app.keys import SCANS
from schemas import requests, responses
from schemas.image import ImageSchema

# Schema instances are reusable and costly to build: one per process, not per request.
SCAN_BODY = requests.ScanImageRequest()


@image_service(ImageSchema, body=requests.ScanImageRequest)
async def scan_image(request: web.Request) -> web.Response:
    """ScanImage: scan an image by name and store the result

    Pulls the manifest, config and layers from the registry (cached metadata and stored
    scans are reused unless `force`), matches the packages against the OSV feed, stores
    and returns the image. Errors: 400 bad name, delegation, schema 1 or a layer over a
    limit; 403 credentials refused; 404 unknown repository, tag or platform; 429 all scan
    slots busy (`Retry-After`); 503 registry unreachable or content not matching its
    digest; 504 registry or scan too slow.
    """
    body = SCAN_BODY.load(await json_body(request))
    image = await request.app[SCANS].scan_image(
        body["image_name"],
        force=body["force"],
        include_snoozed=body["include_snoozed"],
        cluster=body["cluster"],
        namespace=body["namespace"],
    )
    note_audit(request, images_affected=[image["id"]])
    return json_response(request, image)


@image_service(responses.Empty)
async def invalidate_caches(request: web.Request) -> web.Response:
    """InvalidateScanAndRegistryCaches: forget cached registry metadata"""
    request.app[SCANS].forget_metadata()
    return json_response(request, {})
