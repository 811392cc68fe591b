"""The application factory: wiring only."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pymongo.asynchronous.database import AsyncDatabase

from app.admission import AdmissionCollector, Budget, Cost
from app.config import Settings
from app.console.serving import setup_console
from app.cors import setup_cors
from app.feed_resources import feed_ctx
from app.hardening import PARSER_LIMITS
from app.keys import SETTINGS
from app.metrics import METRICS, Metrics
from app.openapi import setup_openapi
from app.pipeline import Pipeline
from app.readiness import READINESS, Readiness, readiness_ctx
from app.resources import access_ctx, mongo_ctx, services_ctx
from app.routes import add_routes


def create_app(
    settings: Settings, *, db: AsyncDatabase[dict[str, Any]] | None = None
) -> web.Application:
    """The Image Service application; `db` replaces the configured database (tests)."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # served by `image-service serve`, app/listener.py adds its own timeouts and cap
        handler_args=PARSER_LIMITS,
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[READINESS] = Readiness()
    app.cleanup_ctx.append(mongo_ctx(db))
    app.cleanup_ctx.append(access_ctx)
    app.cleanup_ctx.append(services_ctx)
    app.cleanup_ctx.append(feed_ctx)
    app.cleanup_ctx.append(readiness_ctx)
    cors_origins = setup_cors(app, settings.cors_origins)
    pipeline = Pipeline(app, app[METRICS], cors_origins=cors_origins)
    add_routes(pipeline, _admission(app, settings))
    setup_openapi(app, pipeline)
    setup_console(pipeline)
    pipeline.add_fallback()  # last: it answers whatever no route before it does
    return app


def _admission(app: web.Application, settings: Settings) -> dict[Cost, Budget]:
    """The admission budget of each cost, sized by the settings; the budgets are in /metrics."""
    wait_s = settings.queue_wait_s
    budgets = {
        Cost.STORE: Budget(
            "requests",
            limit=settings.max_in_flight,
            queue=settings.max_queued,
            wait_s=wait_s,
            target_s=settings.target_latency_s,
        ),
        Cost.EXPORT: Budget(
            "exports",
            limit=settings.max_exports,
            queue=settings.max_exports,
            wait_s=wait_s,
            streams=True,
        ),
    }
    app[METRICS].registry.register(AdmissionCollector(budgets))
    for budget in budgets.values():
        app[READINESS].count_answers_of(budget.last_answer)
    return budgets
