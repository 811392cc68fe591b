"""The route table, in the order of README's Endpoints table, with what each route needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.auth.middleware import ANY_PRINCIPAL, METRICS_SCRAPE, Guard
from app.auth.permissions import ACCESS, IMAGE, INTEGRATION, WATCHED_IMAGE, read, write
from app.handlers import access, export, health, images, metrics, scans, watched

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# (method, path, handler, guard): the permissions as reference §1.1 and upstream's
# APITokenService list them; None = open to anyone.
ROUTES: tuple[tuple[str, str, Handler, Guard], ...] = (
    ("GET", "/v1/imagescount", images.count_images, read(IMAGE)),
    ("GET", "/v1/images", images.list_images, read(IMAGE)),
    ("GET", "/v1/images/{id}", images.get_image, read(IMAGE)),
    ("DELETE", "/v1/images", images.delete_images, write(IMAGE)),
    ("GET", "/v1/export/images", export.export_images, read(IMAGE)),
    ("POST", "/v1/images/scan", scans.scan_image, write(IMAGE)),
    ("GET", "/v1/images/cache/invalidate", scans.invalidate_caches, write(IMAGE)),
    ("POST", "/v1/images/cache/invalidate", scans.invalidate_caches, write(IMAGE)),
    ("GET", "/v1/watchedimages", watched.list_watched_images, read(WATCHED_IMAGE)),
    ("POST", "/v1/watchedimages", watched.watch_image, write(WATCHED_IMAGE)),
    ("DELETE", "/v1/watchedimages", watched.unwatch_image, write(WATCHED_IMAGE)),
    ("POST", "/v1/apitokens/generate", access.generate_token, (read(ACCESS), write(INTEGRATION))),
    ("GET", "/v1/apitokens/generate/allowed-roles", access.allowed_roles, read(INTEGRATION)),
    ("GET", "/v1/apitokens", access.list_tokens, read(INTEGRATION)),
    ("GET", "/v1/apitokens/{id}", access.get_token, read(INTEGRATION)),
    ("PATCH", "/v1/apitokens/revoke/{id}", access.revoke_token, write(INTEGRATION)),
    ("GET", "/v1/auth/status", access.auth_status, ANY_PRINCIPAL),
    ("GET", "/v1/mypermissions", access.my_permissions, ANY_PRINCIPAL),
    ("GET", "/v1/roles", access.list_roles, read(ACCESS)),
    ("POST", "/v1/roles/{name}", access.create_role, write(ACCESS)),
    ("GET", "/v1/ping", health.ping_v1, None),
    ("GET", "/livez", health.livez, None),
    ("GET", "/readyz", health.readyz, None),
    ("GET", "/metrics", metrics.metrics, METRICS_SCRAPE),
)


def add_routes(app: web.Application) -> dict[web.AbstractRoute, Guard]:
    """Add every route; returns each route's guard for the authentication middleware."""
    guards: dict[web.AbstractRoute, Guard] = {}
    for method, path, handler, guard in ROUTES:
        # add_route adds no HEAD twin to a GET (add_get would): so HEAD answers 405
        guards[app.router.add_route(method, path, handler)] = guard
    return guards
