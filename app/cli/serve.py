"""`image-service serve`: the REST API, on a database or on a local store it starts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from aiohttp import web

from app.cli.admin_token import provide_admin_token
from app.cli.local_store import LocalStoreError, start_local_store
from app.config import Settings
from app.main import create_app

logger = logging.getLogger(__name__)


def run_serve(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    local_store: Path | None,
    local_store_port: int,
) -> int:
    """Serve until interrupted; a local store started here is stopped on the way out.

    Exit status: 0 served; 1 the local store did not start.
    """
    settings = settings.with_overrides(host=host, port=port)
    store = None
    if local_store is not None:
        try:
            store = start_local_store(local_store, port=local_store_port)
        except LocalStoreError as exc:
            print(f"image-service: {exc}", file=sys.stderr)
            return 1
        settings = settings.with_overrides(mongodb_uri=store.uri + settings.database)
        if not provide_admin_token(settings, local_store):
            store.stop()
            return 1
    try:
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            shutdown_timeout=30,
            access_log=None,
            print=lambda text: logger.info("%s", text.strip()),
        )
    finally:
        if store is not None:
            store.stop()
    return 0
