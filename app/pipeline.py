"""Every request's way through the service, in one middleware.

In order: a request id and the read deadline; then, for the answer, the CORS preflight (before
authentication: a browser's preflight carries no credentials), the route's guard
(app/auth/guards.py), a slot of the route's admission budget (app/admission.py) and the handler;
every error rendered in the upstream error shape (app/error_rendering.py); then, with the status
the client got, the metrics (app/metrics.py) and the audit line (app/audit.py).

One coroutine per request instead of one per concern: each middleware layer costs a coroutine
frame and a wrapper call on every request, more than most of the steps themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from app.admission import Budget, wait_for_slot
from app.audit import audit_answer, auditing, note_refusal
from app.auth.guards import Guard, check_guard, passes_cached, unlisted_guard
from app.cors import preflight_answer
from app.error_rendering import describe, error_response
from app.hardening import READ_DEADLINE, SERVER_NAME, request_id
from app.keys import CLIENT_GONE, REQUEST_ID
from app.metrics import record_answer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Headers of aiohttp's own errors the rendered error keeps (405: the methods the path has).
_KEPT_HEADERS = ("Allow",)
CLIENT_GONE_STATUS = 499  # what metrics and the audit log say of a client that hung up


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What the pipeline does for a route besides calling its handler."""

    guard: Guard  # who may call it (None: anyone)
    budget: Budget | None = None  # the admission budget it draws on (None: not admitted)
    audited: bool = False  # it changes something: every request gets an audit line


# The policies the pipeline reads, by route (the benchmark harness's no-auth arm edits them).
ROUTE_POLICIES = web.AppKey("image_service.route_policies", dict[web.AbstractRoute, RoutePolicy])


def _http_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    response = error_response(describe(exc, request))
    for name in _KEPT_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


def pipeline_middleware(
    policies: Mapping[web.AbstractRoute, RoutePolicy],
    *,
    read_timeout_s: float,
    cors_origins: frozenset[str] = frozenset(),
) -> Middleware:
    """The service's one middleware; routes outside `policies` get `unlisted_guard`."""
    v1_unlisted = RoutePolicy(unlisted_guard("/v1/"))
    open_unlisted = RoutePolicy(unlisted_guard("/"))

    @web.middleware
    async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        policy = policies.get(request.match_info.route)
        if policy is None:
            policy = v1_unlisted if request.path.startswith("/v1/") else open_unlisted
        request[REQUEST_ID] = request_id(request.headers.get("X-Request-Id"))
        request[READ_DEADLINE] = asyncio.get_running_loop().time() + read_timeout_s
        request[CLIENT_GONE] = False  # read below without a KeyError when nobody set it
        status = CLIENT_GONE_STATUS  # unless an answer or an exception says otherwise
        streamed = False
        try:
            try:
                preflight = preflight_answer(request, cors_origins) if cors_origins else None
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
                            budget.release(done - held_from)  # how long it held: adapts slots
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
                # The client hung up while its body was read: no one to answer, nothing wrong.
                request[CLIENT_GONE] = True
                return web.Response(status=400)
            except Exception as exc:
                note_refusal(request, exc)
                response = error_response(describe(exc, request))
            if not response.prepared:
                headers = response.headers
                headers["Server"] = SERVER_NAME  # no Python or aiohttp version
                headers["X-Request-Id"] = request[REQUEST_ID]
                if request.path.startswith("/v1/"):
                    headers["Cache-Control"] = "no-store, no-cache"
            if response.status == web.HTTPRequestTimeout.status_code and not response.prepared:
                # Answer and hang up: aiohttp would otherwise linger reading a trickled body.
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
            record_answer(request, str(status), started, streamed=streamed)
            if (policy.audited or status in (401, 403)) and auditing():
                audit_answer(request, status, started)

    return pipeline
