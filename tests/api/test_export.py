"""ExportImages: NDJSON over one cursor, timeouts, disconnects, errors, gzip."""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import replace
from typing import Any

from app.cli.seed_data import generate_images
from app.config import Settings
from app.keys import IMAGES
from schemas.image import normalize_image
from tests.api.test_images import check
from tests.support.swagger import validate_definition

MANY = 2000


async def seed_many(client: Any, count: int = MANY, profile: str = "small") -> None:
    service = client.server.app[IMAGES]
    batch: list[dict[str, Any]] = []
    for raw in generate_images(count, seed=7, profile=profile):
        batch.append(normalize_image(raw))
        if len(batch) == 500:
            await service.upsert(batch, keep_last_updated=True)
            batch = []
    if batch:
        await service.upsert(batch, keep_last_updated=True)


def lines_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


async def test_export_streams_every_image_in_order(client: Any) -> None:
    await seed_many(client)
    response = await client.get("/v1/export/images")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("Transfer-Encoding") == "chunked"
    lines = lines_of(await response.text())
    assert len(lines) == MANY
    stamps = [line["result"]["image"]["lastUpdated"] for line in lines]
    assert stamps == sorted(stamps)
    for line in lines[:: MANY // 20]:
        validate_definition("v1ExportImageResponse", line["result"])
        check("storageImage", line["result"]["image"])


async def test_export_with_a_query_and_no_match(client: Any) -> None:
    await seed_many(client, 50)
    response = await client.get("/v1/export/images", params={"query": "Image Registry:quay.io"})
    lines = lines_of(await response.text())
    assert lines
    assert all(x["result"]["image"]["name"]["registry"] == "quay.io" for x in lines)
    response = await client.get("/v1/export/images", params={"query": "Image:nothing.example"})
    assert response.status == 200
    assert await response.read() == b""


async def test_export_invalid_query_is_an_error_line_with_400(client: Any) -> None:
    response = await client.get("/v1/export/images", params={"query": "CVSS:>high"})
    assert response.status == 400
    (line,) = lines_of(await response.text())
    validate_definition("googlerpcStatus", line["error"])
    assert line["error"]["code"] == 3
    assert "CVSS" in line["error"]["message"]


async def test_export_negative_timeout_has_already_expired(client: Any) -> None:
    await seed_many(client, 10)
    response = await client.get("/v1/export/images", params={"timeout": "-1"})
    assert response.status == 504
    (line,) = lines_of(await response.text())
    assert line["error"]["code"] == 4


async def test_export_timeout_mid_stream_ends_with_an_error_line(
    app_client: Any, settings: Settings, db: Any
) -> None:
    # small cursor batches: the first line comes quickly even from a slow store
    client = await app_client(replace(settings, export_batch_size=8), db)
    # ~30 MB of uncompressed lines: more than socket buffers hold, so the server blocks
    await seed_many(client, 120, profile="realistic")
    # the deadline leaves room for a busy machine to produce the first line before it
    response = await client.get(
        "/v1/export/images", params={"timeout": "10"}, headers={"Accept-Encoding": "identity"}
    )
    assert response.status == 200
    first = await response.content.readline()
    assert json.loads(first)["result"]["image"]["id"]
    await asyncio.sleep(11)  # stop reading: the server blocks on backpressure past the deadline
    lines = [json.loads(first), *lines_of((await response.read()).decode())]
    assert "error" in lines[-1]
    assert lines[-1]["error"]["code"] == 4
    assert all("result" in line for line in lines[:-1])
    assert len(lines) - 1 < 120


async def test_export_client_disconnect_ends_the_handler(client: Any) -> None:
    await seed_many(client)
    response = await client.get("/v1/export/images")
    await response.content.readline()
    response.close()  # drop the connection mid-stream
    for _ in range(100):
        metrics = await (await client.get("/metrics")).text()
        # aiohttp cancels the handler when its client goes away; the cursor closes with it
        if 'route="/v1/export/images",status="499"' in metrics:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("export handler still running after the client went away")


async def test_export_is_gzipped_on_request(client: Any) -> None:
    await seed_many(client, 200)
    response = await client.get(
        "/v1/export/images", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert response.headers["Content-Encoding"] == "gzip"
    text = gzip.decompress(await response.read()).decode()
    assert len(lines_of(text)) == 200


async def test_export_rejects_a_bad_timeout(client: Any) -> None:
    for timeout in ("soon", "99999999999"):
        response = await client.get("/v1/export/images", params={"timeout": timeout})
        assert response.status == 400
        (line,) = lines_of(await response.text())
        validate_definition("googlerpcStatus", line["error"])
        assert line["error"]["code"] == 3
        assert "timeout" in line["error"]["message"]
