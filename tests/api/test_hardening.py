"""The listener against hostile clients: real bytes over real sockets to the server as
`image-service serve` runs it (app/listener.py) on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from app.config import Settings
from app.hardening import MAX_HEADER_FIELD_BYTES, MAX_HEADERS
from tests.support.access import bearer, issue_token
from tests.support.raw_http import LOOPBACK, Served, exchange, parse_answer, served
from tests.support.stores import MongomockDatabase

GET_LIVEZ = b"GET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"


@pytest.fixture
def db() -> MongomockDatabase:
    # the listener does not depend on the store: one is enough
    return MongomockDatabase(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def settings() -> Settings:
    return Settings(
        mongodb_uri="mongodb://127.0.0.1:1/unused",
        database="unused",
        reprocess_interval_s=0,
        request_read_timeout_s=3.0,
    )


@pytest.fixture
async def token(db: MongomockDatabase, settings: Settings) -> str:
    return await issue_token(db, settings, name="hardening")


@pytest.fixture
async def server(settings: Settings, db: MongomockDatabase) -> AsyncIterator[Served]:
    async with served(settings, db) as running:
        yield running


@pytest.fixture
async def session(server: Served, token: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url, headers=bearer(token)) as client:
        yield client


def assert_error_shape(body: dict[str, Any], code: int) -> None:
    assert set(body) == {"code", "message", "details", "error"}
    assert body["code"] == code
    assert body["error"] == body["message"]


@pytest.mark.parametrize(
    ("request_bytes", "status", "fragment"),
    [
        (b"GET /v1/images?q=" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "request line"),
        (GET_LIVEZ + b"X-Big: " + b"a" * (MAX_HEADER_FIELD_BYTES + 1) + b"\r\n\r\n", 431, "header"),
        (
            GET_LIVEZ + b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n",
            431,
            "header lines",
        ),
        (b"\x16\x03\x01\x02\x00 not http\r\n\r\n", 400, "malformed request"),
        (b"GET /livez HTTP/1.1\r\nHost: a\x00b\r\n\r\n", 400, "malformed"),
        (b"GET /livez HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "malformed"),
    ],
)
async def test_parser_errors_answer_in_the_error_shape(
    server: Served, request_bytes: bytes, status: int, fragment: str
) -> None:
    answer = await exchange(server.port, request_bytes)
    assert answer.status == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["server"] == "image-service"
    assert b"bytearray" not in answer.body
    assert b"aaaa" not in answer.body
    body = answer.json()
    assert_error_shape(body, 3)
    assert fragment in body["message"]


async def test_405_names_the_methods_of_the_path(
    server: Served, session: aiohttp.ClientSession
) -> None:
    answer = await exchange(server.port, GET_LIVEZ.replace(b"GET", b"PUT") + b"\r\n")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET"
    assert_error_shape(answer.json(), 12)
    async with session.put("/v1/images") as response:
        assert response.status == 405
        assert sorted(response.headers["Allow"].split(",")) == ["DELETE", "GET"]


async def test_server_header_carries_no_version(
    server: Served, session: aiohttp.ClientSession
) -> None:
    for path in (
        "/livez",
        "/v1/nothing",
        "/v1/export/images",
        "/metrics",
        "/api/docs",
        "/api/docs/openapi.json",
        "/static/swagger/swagger-ui.css",
        "/static/swagger/nothing.js",
        "/nothing",
    ):
        async with session.get(path) as response:
            await response.read()
            assert response.headers["Server"] == "image-service", path
            assert response.headers["X-Request-Id"], path


async def test_swagger_ui_is_served_with_its_files_and_nothing_else(
    server: Served, session: aiohttp.ClientSession
) -> None:
    async with session.get("/api/docs") as page:
        html = await page.text()
        assert page.status == 200
        assert page.content_type == "text/html"
    assert '"/api/docs/openapi.json"' in html
    assert "/static/swagger/swagger-ui-bundle.js" in html
    async with session.get("/static/swagger/swagger-ui-bundle.js") as script:
        assert script.status == 200
        assert len(await script.read()) > 100_000
    for missing in ("/static/swagger/..%2F..%2Fconstants.py", "/static/swagger/index.htm"):
        async with session.get(missing) as response:
            assert response.status == 404, missing
            assert_error_shape(await response.json(), 5)


async def test_paths_no_route_answers_are_counted_as_unmatched(
    server: Served, session: aiohttp.ClientSession
) -> None:
    for path in ("/nothing/here", "/v1/nothing"):
        async with session.get(path) as response:
            assert response.status == 404
            assert_error_shape(await response.json(), 5)
    async with session.head("/livez") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET"
    async with session.get("/metrics") as response:
        exposition = await response.text()
    assert 'route="unmatched",status="404"' in exposition
    assert 'method="HEAD",route="unmatched",status="405"' in exposition


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("req-1.2:3_x", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("<script>alert(1)</script>", False),
        ("spaces are not safe", False),
        ("é", False),
    ],
)
async def test_request_id_is_kept_only_when_short_and_safe(
    session: aiohttp.ClientSession, given: str, kept: bool
) -> None:
    async with session.get("/livez", headers={"X-Request-Id": given}) as response:
        echoed = response.headers["X-Request-Id"]
    assert (echoed == given) is kept
    if not kept:
        assert len(echoed) == 16
        assert echoed.isalnum()


async def test_long_ids_are_not_echoed_in_full(session: aiohttp.ClientSession) -> None:
    image_id = "sha256:" + "a" * 60_000
    long_request_id = {"X-Request-Id": "<" * 8_000}  # a header line under the limit
    async with session.get(f"/v1/images/{image_id}", headers=long_request_id) as r:
        assert r.status == 404
        assert len(r.headers["X-Request-Id"]) == 16
        raw = await r.read()
    assert len(raw) < 1_000
    body = await r.json()
    assert_error_shape(body, 5)
    assert body["message"].startswith('image with id "sha256:aaa')
    assert "…" in body["message"]
    async with session.get("/v1/images/sha256:abc") as short:
        assert (await short.json())["message"] == (
            'image with id "sha256:abc" does not exist: not found'
        )


@pytest.mark.parametrize("path", ["/v1/images/scan", "/v1/watchedimages"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_json_bodies_need_the_json_content_type(
    session: aiohttp.ClientSession, path: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    data = b'{"imageName": "nginx", "name": "nginx"}'
    async with session.post(path, data=data, headers=headers) as response:
        assert response.status == 415
        body = await response.json()
    assert_error_shape(body, 3)
    assert "application/json" in body["message"]


async def test_json_with_a_charset_and_empty_bodies_are_read(
    session: aiohttp.ClientSession,
) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    async with session.post("/v1/images/scan", data=b'{"imageName": ""}', headers=headers) as r:
        assert r.status == 400
        assert "image name must be specified" in (await r.json())["message"]
    async with session.post("/v1/images/scan") as empty:  # no body, no content type: {}
        assert empty.status == 400
        assert "image name must be specified" in (await empty.json())["message"]


async def test_no_cors_headers_unless_configured(session: aiohttp.ClientSession) -> None:
    origin = {"Origin": "https://ui.example.com"}
    preflight = {**origin, "Access-Control-Request-Method": "POST"}
    async with session.options("/v1/images/scan", headers=preflight) as response:
        assert response.status == 405
        assert "Access-Control-Allow-Origin" not in response.headers
    async with session.get("/v1/ping", headers=origin) as response:
        assert response.status == 200
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_answers_only_the_configured_origins(
    settings: Settings, db: MongomockDatabase, token: str
) -> None:
    listed, other = "https://ui.example.com", "https://evil.example.net"
    settings = replace(settings, cors_origins=(listed,))
    async with (
        served(settings, db) as server,
        aiohttp.ClientSession(base_url=server.url) as anonymous,
    ):
        ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x"}
        async with anonymous.options("/v1/images/scan", headers={"Origin": listed, **ask}) as r:
            assert r.status == 204
            assert r.headers["Access-Control-Allow-Origin"] == listed
            assert "POST" in r.headers["Access-Control-Allow-Methods"].split(", ")
            assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
        async with anonymous.options("/v1/images/scan", headers={"Origin": other, **ask}) as r:
            assert r.status != 204
            assert "Access-Control-Allow-Origin" not in r.headers
        for origin, allowed in ((listed, True), (other, False)):
            headers = {"Origin": origin, **bearer(token)}
            async with anonymous.get("/v1/imagescount", headers=headers) as r:
                assert r.status == 200
                assert ("Access-Control-Allow-Origin" in r.headers) is allowed
                assert "Origin" in r.headers["Vary"]


async def test_a_trickled_body_is_cut_off(server: Served, token: str) -> None:
    reader, writer = await asyncio.open_connection(LOOPBACK, server.port)
    head = (
        "POST /v1/images/scan HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n"
    )
    writer.write(head.encode())
    started = time.monotonic()
    answer = b""
    with pytest.raises(ConnectionError):  # noqa: PT012 - the trickle goes on until refused
        while time.monotonic() - started < 20:
            writer.write(b" ")  # one byte every 2 s, as the attack does
            await writer.drain()
            try:
                answer += await asyncio.wait_for(reader.read(65536), 2)
            except TimeoutError:
                continue
            if reader.at_eof():
                raise ConnectionResetError("closed by the server")
    writer.close()
    elapsed = time.monotonic() - started
    assert elapsed < 3.0 + 2.5  # the read timeout, and one trickle interval
    parsed = parse_answer(answer)
    assert parsed.status == 408
    assert_error_shape(parsed.json(), 4)


async def test_slow_headers_are_cut_off(server: Served) -> None:
    reader, writer = await asyncio.open_connection(LOOPBACK, server.port)
    started = time.monotonic()
    closed = False
    for byte in b"GET /livez HTTP/1.1\r\nX-Slow: " + b"a" * 100:
        try:
            writer.write(bytes([byte]))
            await writer.drain()
            closed = await asyncio.wait_for(reader.read(1), 0.5) == b""
        except TimeoutError:
            continue
        except ConnectionError:
            closed = True
        if closed:
            break
    writer.close()
    assert closed
    assert time.monotonic() - started < 3.0 + 1.0


async def test_a_client_leaving_mid_body_is_not_an_error(
    server: Served, session: aiohttp.ClientSession, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection(LOOPBACK, server.port)
    writer.write(
        b"POST /v1/images/scan HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n".encode()
        + b'{"imageName": "ngi'
    )
    await writer.drain()
    await asyncio.sleep(0.3)  # the handler is reading the body
    writer.transport.abort()
    await asyncio.sleep(0.3)
    async with session.get("/metrics") as response:
        metrics = await response.text()
    scan_lines = [line for line in metrics.splitlines() if 'route="/v1/images/scan"' in line]
    assert any('status="499"' in line and line.endswith(" 1.0") for line in scan_lines)
    assert not any('status="500"' in line for line in scan_lines)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_connections_over_the_cap_are_refused(
    settings: Settings, db: MongomockDatabase
) -> None:
    async with served(replace(settings, max_connections=3), db) as server:
        held = [await asyncio.open_connection(LOOPBACK, server.port) for _ in range(3)]
        await asyncio.sleep(0.1)
        refused = await exchange(server.port, GET_LIVEZ + b"\r\n")
        assert refused.status == 503
        assert refused.headers["retry-after"] == "1"
        assert_error_shape(refused.json(), 14)
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.2)
        assert (await exchange(server.port, GET_LIVEZ + b"\r\n")).status == 200
