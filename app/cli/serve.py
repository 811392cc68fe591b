"""`image-service serve`: the REST API, on a database or on a local store it starts."""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path

from app.audit import configure_audit_log
from app.cli.admin_token import provide_admin_token
from app.cli.local_store import LocalStoreError, start_local_store
from app.config import Settings
from app.listener import serve
from app.main import create_app
from app.tls import ReloadingCertificate


def run_serve(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    local_store: Path | None,
    local_store_port: int,
) -> int:
    """Serve until interrupted; a local store started here is stopped on the way out.

    Exit status: 0 served; 1 the local store did not start, the TLS files do not load or the
    audit log file cannot be opened.
    """
    settings = settings.with_overrides(host=host, port=port)
    certificate = None
    if settings.tls_cert:
        try:
            certificate = ReloadingCertificate(settings.tls_cert, settings.tls_key)
        except (OSError, ssl.SSLError) as exc:
            print(f"image-service: cannot load the TLS certificate and key: {exc}", file=sys.stderr)
            return 1
    try:
        configure_audit_log(settings.audit_log)
    except OSError as exc:
        print(f"image-service: cannot open the audit log: {exc}", file=sys.stderr)
        return 1
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
        asyncio.run(serve(create_app(settings), settings, certificate))
    finally:
        if store is not None:
            store.stop()
    return 0
