"""The route table."""

from __future__ import annotations

from aiohttp import web

from app.handlers import export, health, images, metrics, watched


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/imagescount", images.count_images, allow_head=False)
    app.router.add_get("/v1/images", images.list_images, allow_head=False)
    app.router.add_delete("/v1/images", images.delete_images)
    app.router.add_get("/v1/images/cache/invalidate", images.invalidate_caches, allow_head=False)
    app.router.add_post("/v1/images/cache/invalidate", images.invalidate_caches)
    app.router.add_post("/v1/images/scan", watched.scan_image)
    app.router.add_get("/v1/images/{id}", images.get_image, allow_head=False)
    app.router.add_get("/v1/export/images", export.export_images, allow_head=False)
    app.router.add_get("/v1/watchedimages", watched.list_watched_images, allow_head=False)
    app.router.add_post("/v1/watchedimages", watched.watch_image)
    app.router.add_delete("/v1/watchedimages", watched.unwatch_image)
    app.router.add_get("/v1/ping", health.ping_v1, allow_head=False)
    app.router.add_get("/livez", health.livez, allow_head=False)
    app.router.add_get("/readyz", health.readyz, allow_head=False)
    app.router.add_get("/metrics", metrics.metrics, allow_head=False)
