"""Health endpoints: ping, liveness, readiness."""

from __future__ import annotations

from aiohttp import web

from app.handlers.documented import health
from app.http import json_response
from app.keys import IMAGES


def _ok(request: web.Request) -> web.Response:
    return json_response(request, {"status": "ok"})


@health("Ping: the service answers")
async def ping_v1(request: web.Request) -> web.Response:
    return _ok(request)


@health("Liveness: the process answers (never touches the database)")
async def livez(request: web.Request) -> web.Response:
    """Liveness never touches the database: a slow database must not restart the pod."""
    return _ok(request)


@health("Readiness: the database answers a ping", unavailable="no database")
async def readyz(request: web.Request) -> web.Response:
    """Ready when the database answers a ping."""
    await request.app[IMAGES].ready()
    return _ok(request)
