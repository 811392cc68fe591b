"""The Prometheus scrape endpoint."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.metrics import METRICS


@docs(
    tags=["Health"],
    summary="Prometheus metrics",
    responses={200: {"description": "text exposition format"}},
)
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
