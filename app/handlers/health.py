"""Health endpoints: ping, liveness, readiness."""

from __future__ import annotations

from aiohttp import web

from app.errors import Unavailable
from app.handlers.documented import health
from app.http import json_response
from app.readiness import READINESS


def _ok(request: web.Request) -> web.Response:
    return json_response(request, {"status": "ok"})


@health("Ping: the service answers")
async def ping_v1(request: web.Request) -> web.Response:
    return _ok(request)


@health("Liveness: the process answers (never touches the database)")
async def livez(request: web.Request) -> web.Response:
    """Liveness never touches the database: a slow database must not restart the pod."""
    return _ok(request)


@health(
    "Readiness: start-up done and the database answering (checked in the background); "
    "`warnings`, when present, lists what does not stop serving (an old vulnerability feed)",
    unavailable="not ready: the error's message says why (start-up work, or the database)",
)
async def readyz(request: web.Request) -> web.Response:
    """Ready when start-up work is done and the database answered a recent ping; answers at
    once from the state app/readiness.py keeps, whatever the database does."""
    readiness = request.app[READINESS]
    problem = readiness.problem()
    if problem is not None:
        raise Unavailable(f"not ready: {problem}")
    warnings = readiness.warnings()
    if warnings:
        return json_response(request, {"status": "ok", "warnings": warnings})
    return _ok(request)
