"""The application factory: wiring only."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pymongo.asynchronous.database import AsyncDatabase

from app.audit import audit_middleware
from app.auth.middleware import auth_middleware
from app.config import Settings
from app.cors import setup_cors
from app.hardening import PARSER_LIMITS, hide_server_version
from app.keys import SETTINGS
from app.metrics import METRICS, Metrics, metrics_middleware
from app.middleware import request_middleware
from app.openapi import setup_openapi
from app.resources import access_ctx, mongo_ctx, services_ctx
from app.routes import add_routes


def create_app(
    settings: Settings, *, db: AsyncDatabase[dict[str, Any]] | None = None
) -> web.Application:
    """The Image Service application; `db` replaces the configured database (tests)."""
    app = web.Application(
        middlewares=[metrics_middleware],
        client_max_size=settings.max_body_bytes,
        # served by `image-service serve`, app/listener.py adds its own timeouts and cap
        handler_args=PARSER_LIMITS,
    )
    guards = add_routes(app)
    # the audit log sees the status the client gets; inside the renderer, why it was refused
    app.middlewares.extend([audit_middleware(guards), request_middleware])
    app.on_response_prepare.append(hide_server_version)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(mongo_ctx(db))
    app.cleanup_ctx.append(access_ctx)
    app.cleanup_ctx.append(services_ctx)
    setup_cors(app, settings.cors_origins)
    # innermost: errors it raises are rendered and counted like any other
    app.middlewares.append(auth_middleware(guards))
    setup_openapi(app)
    return app
