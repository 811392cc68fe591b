"""Health endpoints: ping, liveness, readiness."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs

from app.http import json_response
from app.keys import IMAGES


@docs(
    tags=["Health"],
    summary="Ping: the service answers",
    responses={200: {"description": '`{"status": "ok"}`'}},
)
async def ping_v1(request: web.Request) -> web.Response:
    return json_response(request, {"status": "ok"})


@docs(
    tags=["Health"],
    summary="Liveness: the process answers (never touches the database)",
    responses={200: {"description": '`{"status": "ok"}`'}},
)
async def livez(request: web.Request) -> web.Response:
    """Liveness never touches the database: a slow database must not restart the pod."""
    return json_response(request, {"status": "ok"})


@docs(
    tags=["Health"],
    summary="Readiness: the database answers a ping",
    responses={200: {"description": '`{"status": "ok"}`'}, 503: {"description": "no database"}},
)
async def readyz(request: web.Request) -> web.Response:
    """Ready when the database answers a ping."""
    await request.app[IMAGES].ready()
    return json_response(request, {"status": "ok"})
