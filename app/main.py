"""The application factory: wiring only."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.keys import SETTINGS
from app.metrics import METRICS, Metrics, metrics_middleware
from app.middleware import request_middleware
from app.openapi import setup_openapi
from app.resources import mongo_ctx, services_ctx
from app.routes import add_routes

MAX_URL_BYTES = 64 * 1024


def create_app(
    settings: Settings, *, db: AsyncDatabase[dict[str, Any]] | None = None
) -> web.Application:
    """The Image Service application; `db` replaces the configured database (tests)."""
    app = web.Application(
        middlewares=[metrics_middleware, request_middleware],
        client_max_size=settings.max_body_bytes,
        # search queries travel in the URL; aiohttp's default line limit is 8 KiB
        handler_args={"max_line_size": MAX_URL_BYTES, "max_field_size": MAX_URL_BYTES},
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(mongo_ctx(db))
    app.cleanup_ctx.append(services_ctx)
    add_routes(app)
    setup_openapi(app)
    return app
