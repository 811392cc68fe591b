"""The application on a socket: parser limits, a cap on open connections, the idle and header
timeout, aiohttp's own errors in the JSON error shape, optional TLS.

aiohttp answers a request its parser refuses (a bad request line, a URL or header over the
limits, bad bytes) from `RequestHandler.handle_error`, before any middleware runs, in plain text
that can quote the refused bytes. The protocol class is the only place to change that answer,
and `web.Server` is the factory that makes one protocol per connection: so a `web.Server`
subclass makes ours, and a `web.AppRunner` subclass serves the application through it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from contextlib import suppress
from typing import Any

from aiohttp import http_exceptions as parse
from aiohttp import web
from aiohttp.web_request import BaseRequest

from app.config import Settings
from app.error_rendering import ApiError, describe, error_body, error_response
from app.errors import GrpcCode
from app.hardening import MAX_REQUEST_LINE_BYTES, PARSER_LIMITS, SERVER_NAME
from app.metrics import METRICS, register_counters
from app.tls import ReloadingCertificate

logger = logging.getLogger(__name__)


def handler_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of each connection's protocol (aiohttp's RequestHandler)."""
    return {
        **PARSER_LIMITS,
        # Closes a connection that is idle, or still sending its request headers, this long
        # after it opened or after its last answer: slow headers hold nothing for longer.
        "keepalive_timeout": settings.request_read_timeout_s,
        "access_log": None,
    }


# aiohttp's parser errors, most specific first: the client's view (never the refused bytes).
_MALFORMED: tuple[tuple[type[Exception], str], ...] = (
    (parse.BadHttpMethod, "malformed request: unknown HTTP method"),
    (parse.BadStatusLine, "malformed request: invalid request line"),
    (parse.InvalidURLError, "malformed request: invalid URL"),
    (parse.InvalidHeader, "malformed request: invalid header"),
    (parse.PayloadEncodingError, "malformed request: invalid body encoding"),
)


def parser_error(exc: BaseException | None) -> web.HTTPException:
    """The HTTP error answering a request aiohttp's parser refused."""
    if isinstance(exc, parse.LineTooLong):
        if exc.args[1] == MAX_REQUEST_LINE_BYTES:
            return web.HTTPRequestURITooLong(
                text=f"request line is longer than {MAX_REQUEST_LINE_BYTES} bytes"
            )
        return web.HTTPRequestHeaderFieldsTooLarge(
            text=f"a header line is longer than {exc.args[1]} bytes"
        )
    # aiohttp has no type of its own for this one (both of its parsers use this message)
    if isinstance(exc, parse.BadHttpMessage) and "too many headers" in exc.message.lower():
        return web.HTTPRequestHeaderFieldsTooLarge(
            text=f"more than {PARSER_LIMITS['max_headers']} header lines"
        )
    for kind, text in _MALFORMED:
        if isinstance(exc, kind):
            return web.HTTPBadRequest(text=text)
    return web.HTTPBadRequest(text="malformed HTTP request")


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's protocol, answering its own errors in the upstream error shape."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            # as aiohttp does: an answer has started, another cannot be sent
            raise ConnectionError("an answer was already being sent")
        if status >= 500:
            # only what escaped the request pipeline, which renders every handler error itself
            logger.error("unhandled error answering %s", request.remote, exc_info=exc)
            error = ApiError(GrpcCode.INTERNAL, status, "internal error")
        else:
            logger.debug("refused a malformed request from %s: %r", request.remote, exc)
            error = describe(parser_error(exc), request)  # type: ignore[arg-type]
        response = error_response(error)
        response.headers["Server"] = SERVER_NAME
        response.force_close()
        return response


_TOO_MANY = ApiError(GrpcCode.UNAVAILABLE, 503, "too many connections: try again shortly")
REFUSAL_LOG_INTERVAL_S = 1.0


class _Refusal(asyncio.Protocol):
    """Answers a connection over the cap with a 503 and closes it, reading nothing."""

    _ANSWER = (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        + f"Server: {SERVER_NAME}\r\nRetry-After: 1\r\nConnection: close\r\n".encode()
        + f"Content-Length: {len(error_body(_TOO_MANY))}\r\n\r\n".encode()
        + error_body(_TOO_MANY)
    )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self._ANSWER)
        transport.close()


class GuardedServer(web.Server):
    """Makes a GuardedRequestHandler per connection, up to `max_connections` open at once."""

    def __init__(
        self,
        handler: Any,
        *,
        request_factory: Any,
        max_connections: int,
        handler_cancellation: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            handler,
            request_factory=request_factory,
            handler_cancellation=handler_cancellation,
            **kwargs,
        )
        self._handler_kwargs = kwargs
        self.max_connections = max_connections
        self.refused = 0
        self._logged = 0
        self._next_line_at = 0.0

    def __call__(self) -> Any:
        if len(self.connections) >= self.max_connections:
            self.refused += 1
            self._log_refusals()
            return _Refusal()
        return GuardedRequestHandler(self, loop=asyncio.get_running_loop(), **self._handler_kwargs)

    def _log_refusals(self) -> None:
        """The 503s of the connection cap (no request is read, so no request id or route): one
        line a second at most, with how many since the last one; /metrics counts them all."""
        now = time.monotonic()
        if now < self._next_line_at:
            return
        logger.warning(
            "-> 503 UNAVAILABLE: refused %d connection(s) over the cap of %d",
            self.refused - self._logged,
            self.max_connections,
        )
        self._logged = self.refused
        self._next_line_at = now + REFUSAL_LOG_INTERVAL_S


class ServiceRunner(web.AppRunner):
    """An AppRunner serving the application through GuardedServer."""

    def __init__(self, app: web.Application, settings: Settings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._settings = settings

    async def _make_server(self) -> web.Server:
        # AppRunner runs the startup signals and builds the application's Server; its handler
        # and request factory (public attributes) are served through our protocol instead.
        # `_make_server` is the method each aiohttp runner implements to choose its Server.
        app_server = await super()._make_server()
        server = GuardedServer(
            app_server.request_handler,
            request_factory=app_server.request_factory,
            handler_cancellation=app_server.handler_cancellation,
            max_connections=self._settings.max_connections,
            **handler_settings(self._settings),
        )
        register_counters(
            self.app[METRICS],
            "image_service_listener",
            lambda: {"refused_connections": server.refused},
        )
        return server


async def serve(
    app: web.Application, settings: Settings, certificate: ReloadingCertificate | None
) -> None:
    """Serve `app` until SIGINT or SIGTERM; answers in flight get 30 s to finish."""
    runner = ServiceRunner(app, settings, handle_signals=False, shutdown_timeout=30)
    await runner.setup()
    watcher = None
    try:
        context = certificate.context if certificate is not None else None
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=context)
        await site.start()
        scheme = "https" if context is not None else "http"
        for host, port, *_ in runner.addresses:
            logger.info("serving on %s://%s:%s", scheme, host, port)
        if certificate is not None:
            watcher = asyncio.create_task(certificate.watch())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
        await runner.cleanup()
