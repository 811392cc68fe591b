"""The route table, in the order of README's Endpoints table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.handlers import export, health, images, metrics, scans, watched

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/v1/imagescount", images.count_images),
    ("GET", "/v1/images", images.list_images),
    ("GET", "/v1/images/{id}", images.get_image),
    ("DELETE", "/v1/images", images.delete_images),
    ("GET", "/v1/export/images", export.export_images),
    ("POST", "/v1/images/scan", scans.scan_image),
    ("GET", "/v1/images/cache/invalidate", scans.invalidate_caches),
    ("POST", "/v1/images/cache/invalidate", scans.invalidate_caches),
    ("GET", "/v1/watchedimages", watched.list_watched_images),
    ("POST", "/v1/watchedimages", watched.watch_image),
    ("DELETE", "/v1/watchedimages", watched.unwatch_image),
    ("GET", "/v1/ping", health.ping_v1),
    ("GET", "/livez", health.livez),
    ("GET", "/readyz", health.readyz),
    ("GET", "/metrics", metrics.metrics),
)


def add_routes(app: web.Application) -> None:
    for method, path, handler in ROUTES:
        # add_route adds no HEAD twin to a GET (add_get would): so HEAD answers 405
        app.router.add_route(method, path, handler)
