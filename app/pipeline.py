"""Every request's way through the service: one wrapper around each route's handler.

In order: a request id; then the route's guard (app/auth/guards.py), a slot of the route's
admission budget (app/admission.py) and the handler; every error rendered in the upstream error
shape (app/error_rendering.py); then, with the status the client got, the metrics
(app/metrics.py) and the audit line (app/audit.py).

Each handler is wrapped when its route is added, rather than behind an aiohttp middleware: a
middleware brings aiohttp's own layer around it on every request (a coroutine frame and the
current-app bookkeeping), and what the wrapper needs of its route (policy, metrics name) is known
when the route is added instead of looked up per request. What no route answers reaches the
fallback route, added last (`add_fallback`): 404, 405 with `Allow`, and CORS preflights.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from aiohttp import web

from app.admission import Budget, wait_for_slot
from app.audit import audit_answer, auditing, note_refusal
from app.auth.guards import Guard, check_guard, passes_cached, unlisted_guard
from app.cors import preflight_answer
from app.error_rendering import describe, error_response
from app.hardening import SERVER_NAME, request_id
from app.keys import CLIENT_GONE, REQUEST_ID
from app.metrics import Metrics, record_answer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Headers of aiohttp's own errors the rendered error keeps (405: the methods the path has).
_KEPT_HEADERS = ("Allow",)
CLIENT_GONE_STATUS = 499  # what metrics and the audit log say of a client that hung up
UNMATCHED = "unmatched"  # the metrics and audit name of requests no route answers
_V1 = "/v1/"


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What the pipeline does for a route besides calling its handler."""

    guard: Guard  # who may call it (None: anyone)
    budget: Budget | None = None  # the admission budget it draws on (None: not admitted)
    audited: bool = False  # it changes something: every request gets an audit line


# The policies the pipeline reads, by "METHOD /path" (the benchmark harness's no-auth arm edits
# them before the app starts).
ROUTE_POLICIES = web.AppKey("image_service.route_policies", dict[str, RoutePolicy])

_V1_UNLISTED = RoutePolicy(unlisted_guard(_V1))
_OPEN_UNLISTED = RoutePolicy(unlisted_guard("/"))


def _http_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    response = error_response(describe(exc, request))
    for name in _KEPT_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


class Pipeline:
    """Adds routes to an application with their handlers wrapped in the request pipeline."""

    def __init__(
        self, app: web.Application, metrics: Metrics, *, cors_origins: Collection[str] = ()
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._cors_origins = frozenset(cors_origins)
        self._policies: dict[str, RoutePolicy] = {}
        self._others: list[web.AbstractResource] = []  # the resources before the fallback
        app[ROUTE_POLICIES] = self._policies

    def add(
        self, method: str, path: str, handler: Handler, policy: RoutePolicy
    ) -> web.AbstractRoute:
        """Add a route whose requests go through the pipeline under `policy`."""
        key = f"{method} {path}"
        self._policies[key] = policy
        # add_route adds no HEAD twin to a GET (add_get would): so HEAD answers 405
        return self._app.router.add_route(method, path, self._wrap(key, handler, path))

    def add_fallback(self) -> None:
        """The last route: what no other route answers (404, 405 with `Allow`, CORS preflights)
        is answered here, through the pipeline, so it gets the error shape and is counted. Add
        it after every other route: routes match in the order they were added."""
        router = self._app.router
        self._others = list(router.resources())

        async def unmatched(request: web.Request) -> web.StreamResponse:
            allowed = await self._methods_of(request)
            if allowed:
                raise web.HTTPMethodNotAllowed(request.method, allowed)
            raise web.HTTPNotFound()

        router.add_route("*", "/{path:.*}", self._wrap(None, unmatched, UNMATCHED))

    async def _methods_of(self, request: web.Request) -> set[str]:
        """The methods the routes of the request's path answer (none: an unknown path)."""
        allowed: set[str] = set()
        for resource in self._others:
            allowed |= (await resource.resolve(request))[1]
        return allowed

    async def _preflight(self, request: web.Request) -> web.StreamResponse | None:
        """The answer to a CORS preflight for a known path from an allowed origin, else None.
        Answered before authentication: a browser's preflight carries no credentials."""
        if not self._cors_origins or request.method != "OPTIONS":
            return None
        allowed = await self._methods_of(request)
        return preflight_answer(request, self._cors_origins, allowed) if allowed else None

    def _wrap(self, key: str | None, handler: Handler, template: str) -> Handler:
        """`handler` inside the pipeline; `key` None: the fallback, whose policy depends on the
        path asked for."""
        policies = self._policies
        metrics = self._metrics
        under_v1 = template.startswith(_V1)
        endpoint = None if key is None else template  # as the audit line names it

        @functools.wraps(handler)  # keeps the OpenAPI annotations of the handler
        async def pipeline(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            if key is not None:
                policy = policies[key]
                v1 = under_v1
            else:
                v1 = request.path.startswith(_V1)
                policy = _V1_UNLISTED if v1 else _OPEN_UNLISTED
            rid = request[REQUEST_ID] = request_id(request.headers.get("X-Request-Id"))
            request[CLIENT_GONE] = False  # read below; a missing key would cost an exception
            status = CLIENT_GONE_STATUS  # unless an answer or an exception says otherwise
            streamed = False
            try:
                try:
                    preflight = None if key is not None else await self._preflight(request)
                    response: web.StreamResponse
                    if preflight is not None:
                        response = preflight
                    else:
                        guard = policy.guard
                        if guard is not None and not passes_cached(request, guard):
                            await check_guard(request, guard)
                        budget = policy.budget
                        if budget is None:
                            response = await handler(request)
                        elif (
                            budget.try_acquire()
                            or (refused := await wait_for_slot(request, budget)) is None
                        ):
                            held_from = time.monotonic()
                            try:
                                response = await handler(request)
                            finally:
                                done = time.monotonic()
                                budget.release(done - held_from)  # how long it held: adapts
                            if response.status < 500:
                                budget.answered_at = done
                        else:
                            response = refused
                except web.HTTPException as exc:
                    if exc.status < 400:
                        raise
                    note_refusal(request, exc)
                    response = _http_error(exc, request)
                except ConnectionResetError:
                    # The client hung up while its body was read: no one to answer.
                    request[CLIENT_GONE] = True
                    return web.Response(status=400)
                except Exception as exc:
                    note_refusal(request, exc)
                    response = error_response(describe(exc, request))
                if not response.prepared:
                    headers = response.headers
                    headers["Server"] = SERVER_NAME  # no Python or aiohttp version
                    headers["X-Request-Id"] = rid
                    if v1:
                        headers["Cache-Control"] = "no-store, no-cache"
                    if response.status == 408:
                        # Answer and hang up: aiohttp would otherwise linger reading a
                        # trickled body.
                        await response.prepare(request)
                        await response.write_eof()
                        request.protocol.force_close()
                status = CLIENT_GONE_STATUS if request[CLIENT_GONE] else response.status
                streamed = not isinstance(response, web.Response)
                return response
            except web.HTTPException as exc:  # a redirect, passed on as it is
                status = exc.status
                raise
            finally:
                record_answer(metrics, request, template, str(status), started, streamed=streamed)
                if (policy.audited or status in (401, 403)) and auditing():
                    audit_answer(request, endpoint, status, started)

        return pipeline
