"""Admission control over HTTP: a tiny budget held by requests the test keeps waiting in the
service; what does not fit gets 429 with Retry-After at once, the rest 200, nothing 5xx."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from app.config import Settings
from app.keys import IMAGES
from tests.api.test_images import assert_error
from tests.support.raw_http import LOOPBACK, exchange, served
from tests.support.stores import MONGOMOCK

# What is measured here is the service's own queueing: any store will do.
pytestmark = pytest.mark.parametrize("store", [MONGOMOCK])

GET_METRICS = b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # a fixed number of slots: the held requests take as long as the test makes them
    return replace(
        settings,
        max_in_flight=2,
        max_queued=1,
        queue_wait_s=30.0,
        max_exports=1,
        target_latency_s=0,
    )


class Gate:
    """Holds service calls until opened; counts the calls that reached it."""

    def __init__(self) -> None:
        self.reached = 0
        self.opened = asyncio.Event()

    def hold(self, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def held(*args: Any, **kwargs: Any) -> Any:
            self.reached += 1
            await self.opened.wait()
            return await call(*args, **kwargs)

        return held

    def hold_stream(self, call: Callable[..., AsyncIterator[Any]]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            async def stream() -> AsyncIterator[Any]:
                self.reached += 1
                await self.opened.wait()
                async for item in call(*args, **kwargs):
                    yield item

            return stream()

        return held


async def admission(client: Any, budget: str) -> dict[str, float]:
    """The admission gauges and counters of one budget, as /metrics shows them."""
    text = await (await client.get("/metrics")).text()
    found = {}
    labels = rf'budget="{budget}"(?:,why="(\w+)")?'
    pattern = rf"^image_service_admission_(\w+?)(?:_total)?\{{{labels}\}} (\S+)$"
    for name, why, value in re.findall(pattern, text, re.MULTILINE):
        found[f"{name}_{why}" if why else name] = float(value)
    return found


async def until_held(client: Any, budget: str, in_flight: int, queued: int) -> None:
    for _ in range(500):
        seen = await admission(client, budget)
        if (seen.get("in_flight"), seen.get("queued")) == (in_flight, queued):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the {budget} budget never held {in_flight}+{queued}: {seen}")


def assert_refused(response: Any, body: dict[str, Any]) -> None:
    assert response.status == 429
    assert response.headers["Retry-After"] == "1"
    assert_error(body, 8, "the service is busy")


async def test_beyond_slots_and_queue_requests_get_429_at_once_and_the_rest_200(
    client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    service = client.server.app[IMAGES]
    gate = Gate()
    monkeypatch.setattr(service, "count", gate.hold(service.count))
    held = [asyncio.create_task(client.get("/v1/imagescount")) for _ in range(3)]
    await until_held(client, "store", in_flight=2, queued=1)
    assert gate.reached == 2

    caplog.set_level(logging.WARNING, logger="image_service.failures")
    refused = [
        await client.get("/v1/imagescount", headers={"X-Request-Id": "refused-count"}),
        await client.get("/v1/images"),
        await client.get("/v1/images/sha256:" + "a" * 64),
        await client.delete("/v1/images", params={"query.query": "Image:x"}),
        await client.get("/v1/watchedimages"),
    ]
    for response in refused:
        assert_refused(response, await response.json())
    # what is not admitted still answers: probes, metrics, tokens
    for path in ("/livez", "/readyz", "/v1/ping", "/metrics", "/v1/auth/status", "/v1/roles"):
        assert (await client.get(path)).status == 200, path

    gate.opened.set()
    for task in held:
        response = await task
        assert response.status == 200
        assert await response.json() == {"count": 0}
    seen = await admission(client, "store")
    assert (seen["in_flight"], seen["queued"], seen["refused_queue_full"]) == (0, 0, 5)
    assert seen["waited"] == 1
    assert (await client.get("/v1/imagescount")).status == 200

    lines = [r.getMessage() for r in caplog.records if r.name == "image_service.failures"]
    assert len(lines) == 5
    assert lines[0] == (
        "GET /v1/imagescount -> 429 RESOURCE_EXHAUSTED (Overloaded): the service is busy: "
        "2 requests in flight and 1 waiting; retry later: resource exhausted "
        "[request refused-count]"
    )
    metrics = await (await client.get("/metrics")).text()
    assert (
        'image_service_http_failures_total{cause="Overloaded",method="GET",'
        'route="/v1/imagescount",status="429"} 1.0'
    ) in metrics


async def test_a_queued_request_gets_429_when_no_slot_comes_free_in_its_wait(
    app_client: Any, settings: Settings, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await app_client(replace(settings, max_in_flight=1, queue_wait_s=0.2), db)
    service = client.server.app[IMAGES]
    gate = Gate()
    monkeypatch.setattr(service, "count", gate.hold(service.count))
    held = asyncio.create_task(client.get("/v1/imagescount"))
    await until_held(client, "store", in_flight=1, queued=0)
    response = await client.get("/v1/imagescount")
    assert_refused(response, body := await response.json())
    assert "no slot among 1 requests came free within 0.2s" in body["message"]
    gate.opened.set()
    assert (await held).status == 200
    assert (await admission(client, "store"))["refused_wait_timeout"] == 1


async def test_exports_have_a_budget_of_their_own(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = client.server.app[IMAGES]
    counts, exports = Gate(), Gate()
    monkeypatch.setattr(service, "count", counts.hold(service.count))
    monkeypatch.setattr(service, "export", exports.hold_stream(service.export))

    # the store budget full: an export still runs
    held_counts = [asyncio.create_task(client.get("/v1/imagescount")) for _ in range(3)]
    await until_held(client, "store", in_flight=2, queued=1)
    assert (await client.get("/v1/imagescount")).status == 429
    held_exports = [asyncio.create_task(client.get("/v1/export/images")) for _ in range(2)]
    await until_held(client, "export", in_flight=1, queued=1)

    # the export budget full too: a third export is refused in the stream's framing
    response = await client.get("/v1/export/images")
    assert response.status == 429
    assert response.headers["Retry-After"] == "1"
    (line,) = [json.loads(text) for text in (await response.text()).splitlines()]
    assert line["error"]["code"] == 8
    assert "1 exports in flight and 1 waiting" in line["error"]["message"]

    # counts come free while exports stay held: counts answer again, exports still refused
    counts.opened.set()
    for task in held_counts:
        assert (await task).status == 200
    assert (await client.get("/v1/imagescount")).status == 200
    assert (await client.get("/v1/export/images")).status == 429

    exports.opened.set()
    for task in held_exports:
        response = await task
        assert response.status == 200
        assert await response.read() == b""
    seen = await admission(client, "export")
    assert (seen["in_flight"], seen["queued"], seen["refused_queue_full"]) == (0, 0, 2)


async def test_a_request_whose_client_hung_up_while_queued_is_not_served(
    app_client: Any, settings: Settings, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await app_client(replace(settings, max_in_flight=1), db)
    service = client.server.app[IMAGES]
    gate = Gate()
    monkeypatch.setattr(service, "count", gate.hold(service.count))
    held = asyncio.create_task(client.get("/v1/imagescount"))
    await until_held(client, "store", in_flight=1, queued=0)
    impatient = asyncio.create_task(client.get("/v1/imagescount"))
    await until_held(client, "store", in_flight=1, queued=1)
    impatient.cancel()  # the connection is closed: the request stays queued in the server
    with pytest.raises(asyncio.CancelledError):
        await impatient
    gate.opened.set()
    assert (await held).status == 200
    await until_held(client, "store", in_flight=0, queued=0)
    assert gate.reached == 1  # the abandoned request never reached the service
    metrics = await (await client.get("/metrics")).text()
    assert (
        'image_service_http_requests_total{method="GET",route="/v1/imagescount",status="499"} 1.0'
    ) in metrics


async def test_connections_over_the_cap_are_logged_and_counted(
    settings: Settings, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.listener")
    async with served(replace(settings, max_connections=2), db) as server:
        held = [await asyncio.open_connection(LOOPBACK, server.port) for _ in range(2)]
        await asyncio.sleep(0.1)
        for _ in range(3):
            assert (await exchange(server.port, GET_METRICS)).status == 503
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.2)
        metrics = await exchange(server.port, GET_METRICS)
    assert "image_service_listener_refused_connections_total 3.0" in metrics.body.decode()
    lines = [r.getMessage() for r in caplog.records if r.name == "app.listener"]
    # one line a second at most: the first refusal's
    assert lines == ["-> 503 UNAVAILABLE: refused 1 connection(s) over the cap of 2"]
