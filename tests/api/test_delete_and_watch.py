"""DeleteImages, watch and scan requests refused before any registry is asked, caches."""

from __future__ import annotations

import io
from typing import Any

import pytest

from app.config import Settings
from app.main import create_app
from tests.api.test_images import assert_error, check
from tests.support.access import bearer
from tests.support.images import image


async def seed(put_images: Any, count: int = 5) -> list[dict[str, Any]]:
    images = [image(f"docker.io/team/app{i}:{'latest' if i % 2 else 'v1'}") for i in range(count)]
    await put_images(images)
    return images


async def test_delete_without_query_key_is_400(client: Any, put_images: Any) -> None:
    await seed(put_images)
    response = await client.delete("/v1/images", params={"confirm": "true"})
    assert response.status == 400
    assert_error(await response.json(), 3, "a scoping query is required")
    assert (await (await client.get("/v1/imagescount")).json()) == {"count": 5}


async def test_delete_is_a_dry_run_unless_confirmed(client: Any, put_images: Any) -> None:
    await seed(put_images)
    params = {"query.query": "Image Tag:latest"}
    body = await (await client.delete("/v1/images", params=params)).json()
    check("v1DeleteImagesResponse", body)
    assert body == {"numDeleted": 2, "dryRun": True}
    assert (await (await client.get("/v1/imagescount")).json()) == {"count": 5}
    body = await (await client.delete("/v1/images", params={**params, "confirm": "1"})).json()
    assert body == {"numDeleted": 2, "dryRun": False}
    assert (await (await client.get("/v1/imagescount")).json()) == {"count": 3}


async def test_empty_query_dry_run_counts_all_but_refuses_to_delete(
    client: Any, put_images: Any
) -> None:
    await seed(put_images)
    body = await (await client.delete("/v1/images", params={"query.query": ""})).json()
    assert body == {"numDeleted": 5, "dryRun": True}
    response = await client.delete("/v1/images", params={"query.query": "", "confirm": "true"})
    assert response.status == 400
    assert_error(await response.json(), 3, "Image:*")
    assert (await (await client.get("/v1/imagescount")).json()) == {"count": 5}
    params = {"query.query": "Image:*", "confirm": "true"}
    body = await (await client.delete("/v1/images", params=params)).json()
    assert body == {"numDeleted": 5, "dryRun": False}


async def test_delete_with_a_typo_deletes_nothing(client: Any, put_images: Any) -> None:
    await seed(put_images)
    params = {"query.query": "Image Tg:latest", "confirm": "true"}
    response = await client.delete("/v1/images", params=params)
    assert response.status == 400
    assert (await (await client.get("/v1/imagescount")).json()) == {"count": 5}


async def test_delete_honours_pagination(client: Any, put_images: Any) -> None:
    images = await seed(put_images)
    params = {
        "query.query": "Image:docker.io/team",
        "query.pagination.limit": "2",
        "query.pagination.sortOption.field": "Image",
        "confirm": "true",
    }
    body = await (await client.delete("/v1/images", params=params)).json()
    assert body == {"numDeleted": 2, "dryRun": False}
    left = await (await client.get("/v1/images")).json()
    names = sorted(i["name"] for i in left["images"])
    assert names == sorted(i["name"]["fullName"] for i in images)[2:]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "no image name specified"),
        ("Not A Name", "failed to parse name: invalid reference format"),
        (
            "nginx@sha256:" + "a" * 64,
            "contains a digest, but watch does not handle images with digests",
        ),
    ],
)
async def test_watch_refuses_bad_names(client: Any, name: str, message: str) -> None:
    body = await (await client.post("/v1/watchedimages", json={"name": name})).json()
    assert body["errorType"] == "INVALID_IMAGE_NAME"
    assert message in body["errorMessage"]


async def test_unwatch_is_idempotent(client: Any) -> None:
    for _ in range(2):
        response = await client.delete("/v1/watchedimages", params={"name": "docker.io/x/y:1"})
        assert response.status == 200
        assert await response.json() == {}
    check("v1GetWatchedImagesResponse", await (await client.get("/v1/watchedimages")).json())


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "malformed JSON body"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"imageName": ""}', 400, "image name must be specified"),
        (b'{"image_name": "nginx", "cluster": "prod"}', 400, "delegated scanning"),
        (b'{"imageName": 5}', 400, "imageName"),
    ],
)
async def test_scan_bad_bodies(client: Any, body: bytes, status: int, fragment: str) -> None:
    response = await client.post(
        "/v1/images/scan", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == status
    assert_error(await response.json(), 3, fragment)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_invalidate_caches(client: Any, method: str) -> None:
    response = await client.request(method, "/v1/images/cache/invalidate")
    assert response.status == 200
    body = await response.json()
    assert body == {}
    check("v1Empty", body)


async def test_unknown_routes_and_methods_use_the_error_shape(client: Any) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status == 404
    assert_error(await response.json(), 5, "Not Found")
    response = await client.put("/v1/images")
    assert response.status == 405
    assert (await response.json())["code"] == 12


async def test_oversized_body_is_refused(client: Any) -> None:
    response = await client.post(
        "/v1/watchedimages",
        data=io.BytesIO(b'{"name": "' + b"a" * (2 << 20) + b'"}'),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert (await response.json())["code"] == 3


async def test_ping_health_metrics_and_openapi(client: Any) -> None:
    assert await (await client.get("/v1/ping")).json() == {"status": "ok"}
    assert (await client.get("/livez")).status == 200
    assert (await client.get("/readyz")).status == 200
    await client.get("/v1/imagescount")
    metrics = await (await client.get("/metrics")).text()
    assert 'route="/v1/imagescount"' in metrics
    spec = await (await client.get("/api/docs/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    paths = [
        "/v1/imagescount",
        "/v1/images",
        "/v1/images/{id}",
        "/v1/export/images",
        "/v1/images/scan",
        "/v1/watchedimages",
        "/v1/images/cache/invalidate",
    ]
    for path in paths:
        assert path in spec["paths"], path
    params = {p["name"] for p in spec["paths"]["/v1/images"]["get"]["parameters"]}
    assert {"query", "pagination.limit", "pagination.sortOption.field"} <= params
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert "200" in operation["responses"], (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (method, path, parameter["name"])


async def test_without_a_database_the_service_is_alive_but_not_ready(aiohttp_client: Any) -> None:
    settings = Settings(
        mongodb_uri="mongodb://127.0.0.1:9/nowhere",
        reprocess_interval_s=0,
        database="nowhere",
        mongo_connect_timeout_ms=200,
    )
    # no database to issue a token on: the lookup of any token finds the store unavailable
    client = await aiohttp_client(create_app(settings), headers=bearer("isvc_unknown"))
    assert (await client.get("/livez")).status == 200
    response = await client.get("/readyz")
    assert response.status == 503
    assert_error(await response.json(), 14, "unavailable")
    response = await client.get("/v1/imagescount")
    assert response.status == 503
