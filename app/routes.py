"""The route table, in the order of README's Endpoints table, with what each route needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from app.admission import Budget, Cost
from app.audit import changes_something
from app.auth.guards import ANY_PRINCIPAL, METRICS_SCRAPE, Guard
from app.auth.permissions import ACCESS, IMAGE, INTEGRATION, WATCHED_IMAGE, read, write
from app.handlers import access, export, health, images, metrics, scans, watched
from app.pipeline import Pipeline, RoutePolicy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STORE = Cost.STORE
EXPORT = Cost.EXPORT

# (method, path, handler, guard, cost). Guard: the permissions as reference §1.1 and upstream's
# APITokenService list them; None = open to anyone. Cost: the admission budget its requests
# draw on (app/admission.py); None = not admitted: probes, metrics, tokens and roles (which must
# stay reachable under load), and scans and watches, which wait for their own scan slots.
ROUTES: tuple[tuple[str, str, Handler, Guard, Cost | None], ...] = (
    ("GET", "/v1/imagescount", images.count_images, read(IMAGE), STORE),
    ("GET", "/v1/images", images.list_images, read(IMAGE), STORE),
    ("GET", "/v1/images/{id}", images.get_image, read(IMAGE), STORE),
    ("DELETE", "/v1/images", images.delete_images, write(IMAGE), STORE),
    ("GET", "/v1/export/images", export.export_images, read(IMAGE), EXPORT),
    ("POST", "/v1/images/scan", scans.scan_image, write(IMAGE), None),
    ("GET", "/v1/images/cache/invalidate", scans.invalidate_caches, write(IMAGE), None),
    ("POST", "/v1/images/cache/invalidate", scans.invalidate_caches, write(IMAGE), None),
    ("GET", "/v1/watchedimages", watched.list_watched_images, read(WATCHED_IMAGE), STORE),
    ("POST", "/v1/watchedimages", watched.watch_image, write(WATCHED_IMAGE), None),
    ("DELETE", "/v1/watchedimages", watched.unwatch_image, write(WATCHED_IMAGE), STORE),
    (
        "POST",
        "/v1/apitokens/generate",
        access.generate_token,
        (read(ACCESS), write(INTEGRATION)),
        None,
    ),
    ("GET", "/v1/apitokens/generate/allowed-roles", access.allowed_roles, read(INTEGRATION), None),
    ("GET", "/v1/apitokens", access.list_tokens, read(INTEGRATION), None),
    ("GET", "/v1/apitokens/{id}", access.get_token, read(INTEGRATION), None),
    ("PATCH", "/v1/apitokens/revoke/{id}", access.revoke_token, write(INTEGRATION), None),
    ("GET", "/v1/auth/status", access.auth_status, ANY_PRINCIPAL, None),
    ("GET", "/v1/mypermissions", access.my_permissions, ANY_PRINCIPAL, None),
    ("GET", "/v1/roles", access.list_roles, read(ACCESS), None),
    ("POST", "/v1/roles/{name}", access.create_role, write(ACCESS), None),
    ("GET", "/v1/ping", health.ping_v1, None, None),
    ("GET", "/livez", health.livez, None, None),
    ("GET", "/readyz", health.readyz, None, None),
    ("GET", "/metrics", metrics.metrics, METRICS_SCRAPE, None),
)


def add_routes(pipeline: Pipeline, budgets: Mapping[Cost, Budget]) -> None:
    """Add every route, each with its guard, the budget of its cost, and an audit line for
    every request to a route that changes something."""
    for method, path, handler, guard, cost in ROUTES:
        budget = None if cost is None else budgets[cost]
        pipeline.add(method, path, handler, RoutePolicy(guard, budget, changes_something(guard)))
