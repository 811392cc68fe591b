"""Count, get and list over HTTP, on every store."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.images import component, digest, image, vuln
from tests.support.swagger import assert_all_fields_present, validate_definition


def check(definition: str, body: Any) -> None:
    validate_definition(definition, body)
    assert_all_fields_present(definition, body)


def assert_error(body: dict[str, Any], code: int, fragment: str) -> None:
    check("googlerpcStatus", {k: v for k, v in body.items() if k != "error"})
    assert body["code"] == code
    assert fragment in body["message"]
    assert body["error"] == body["message"]
    assert body["details"] == []


NGINX = image(
    "docker.io/library/nginx:1.25",
    component(
        "openssl",
        "3.0.11-1",
        vuln("CVE-2023-5678", 7.5, "IMPORTANT", fixed_by="3.0.13-1"),
        vuln("CVE-2023-0001", 9.8, "CRITICAL", fixed_by=""),
        vuln("CVE-2022-4444", 5.0, "MODERATE", state="DEFERRED"),
        vuln("CVE-2021-9999", 4.0, "MODERATE", suppressed=True),
    ),
    component("zlib", "1.2.13"),
    labels={"maintainer": "NGINX Docker Maintainers"},
)
REDIS = image(
    "quay.io/org/redis:7",
    component("libc", "2.36", vuln("CVE-2023-5678", 7.5, "IMPORTANT", fixed_by="2.37")),
    os="alpine:3.19",
)
UNSCANNED = image("ghcr.io/team/app:latest", scanned=None, created=None)


async def test_count_on_an_empty_store_is_zero(client: Any) -> None:
    response = await client.get("/v1/imagescount")
    assert response.status == 200
    body = await response.json()
    assert body == {"count": 0}
    check("v1CountImagesResponse", body)


async def test_count_with_and_without_query(client: Any, put_images: Any) -> None:
    await put_images([NGINX, REDIS, UNSCANNED])
    assert (await (await client.get("/v1/imagescount")).json()) == {"count": 3}
    response = await client.get("/v1/imagescount", params={"query": "Image Registry:quay.io"})
    assert (await response.json()) == {"count": 1}
    # pagination keys are accepted and ignored
    response = await client.get("/v1/imagescount", params={"pagination.limit": "1"})
    assert (await response.json()) == {"count": 3}


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("Imag:nginx", 'unknown search field "Imag"'),
        ("CVSS:abc", "CVSS"),
        ("Namespace:payments", "not supported"),
        ("Image:r/" + "a" * 300, "Image"),
        ("Image:r/(.*.*)*#", "exponential time"),
        ("Severity:r/(.*.*)*#", "exponential time"),
        ("Image:r/.*a.*b.*c.*d.*e", "more than 4 repeats"),
        ("Image:r/(", "invalid regular expression"),
        ("CVSS:1e307", "out of range"),
        ("Image Top CVSS:>-1e307", "out of range"),
        ("Last Updated:tr/" + "9" * 5000 + "-2", "out of range"),
        ("Last Updated:" + "9" * 5000 + "d", "out of range"),
        ("Image:a\x00b", "NUL"),
        ("Fixable:maybe", "boolean"),
        ("INVALIDQUERY", "no field clause"),
    ],
)
async def test_bad_queries_are_400_in_the_error_shape(
    client: Any, query: str, fragment: str
) -> None:
    response = await client.get("/v1/imagescount", params={"query": query})
    assert response.status == 400
    assert_error(await response.json(), 3, fragment)


async def test_get_image_full_shape_and_defaults(client: Any, put_images: Any) -> None:
    await put_images([NGINX])
    response = await client.get(f"/v1/images/{NGINX['id']}")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    body = await response.json()
    check("storageImage", body)
    assert body["id"] == NGINX["id"]
    assert body["components"] == 2
    assert body["topCvss"] == 9.8
    assert body["fixableCves"] == 1
    # snoozed (DEFERRED, suppressed) vulns are dropped by default and cves recounted
    cves = [v["cve"] for c in body["scan"]["components"] for v in c["vulns"]]
    assert sorted(cves) == ["CVE-2023-0001", "CVE-2023-5678"]
    assert body["cves"] == 2
    assert all(v["datasource"] == "" for c in body["scan"]["components"] for v in c["vulns"])
    assert body["priority"] == "1"
    assert body["scan"]["hash"].isdigit()
    assert body["lastUpdated"].endswith("Z")


async def test_get_image_include_snoozed_and_strip_description(
    client: Any, put_images: Any
) -> None:
    await put_images([NGINX])
    response = await client.get(
        f"/v1/images/{NGINX['id']}", params={"include_snoozed": "T", "stripDescription": "1"}
    )
    body = await response.json()
    vulns = [v for c in body["scan"]["components"] for v in c["vulns"]]
    assert len(vulns) == 4
    assert body["cves"] == 4
    assert {v["summary"] for v in vulns} == {""}


async def test_get_image_by_bare_hex_and_not_found(client: Any, put_images: Any) -> None:
    await put_images([NGINX])
    bare = NGINX["id"].removeprefix("sha256:")
    assert (await client.get(f"/v1/images/{bare}")).status == 200
    missing = digest("missing").removeprefix("sha256:")
    response = await client.get(f"/v1/images/{missing}")
    assert response.status == 404
    assert_error(await response.json(), 5, f'image with id "{missing}" does not exist: not found')


async def test_get_image_rejects_a_bad_bool(client: Any, put_images: Any) -> None:
    await put_images([NGINX])
    response = await client.get(f"/v1/images/{NGINX['id']}", params={"includeSnoozed": "maybe"})
    assert response.status == 400
    assert_error(await response.json(), 3, "includeSnoozed")


async def test_list_images_is_a_summary_without_scan(client: Any, put_images: Any) -> None:
    await put_images([NGINX, REDIS, UNSCANNED])
    response = await client.get("/v1/images")
    body = await response.json()
    check("v1ListImagesResponse", body)
    by_id = {i["id"]: i for i in body["images"]}
    assert set(by_id[NGINX["id"]]) == {
        "id", "name", "components", "cves", "fixableCves", "created", "lastUpdated", "priority"
    }  # fmt: skip
    assert by_id[NGINX["id"]]["name"] == "docker.io/library/nginx:1.25"
    # an image without a scan has no counts, and no created time without metadata.v1.created
    assert "cves" not in by_id[UNSCANNED["id"]]
    assert by_id[UNSCANNED["id"]]["created"] is None
    priorities = {i["id"]: int(i["priority"]) for i in body["images"]}
    assert priorities[NGINX["id"]] < priorities[UNSCANNED["id"]]


async def test_list_default_order_is_last_updated_then_id(client: Any, put_images: Any) -> None:
    stamp = "2024-06-01T00:00:00Z"
    images = [image(f"docker.io/x/app{i}:1", last_updated=stamp) for i in range(6)]
    images.append(image("docker.io/x/older:1", last_updated="2024-01-01T00:00:00Z"))
    await put_images(images)
    body = await (await client.get("/v1/images")).json()
    ids = [i["id"] for i in body["images"]]
    assert ids[0] == images[-1]["id"]
    assert ids[1:] == sorted(ids[1:])


async def test_pages_never_overlap_or_skip(client: Any, put_images: Any) -> None:
    stamp = "2024-06-01T00:00:00Z"
    await put_images(image(f"docker.io/x/app{i}:1", last_updated=stamp) for i in range(10))
    seen: list[str] = []
    for offset in range(0, 10, 3):
        params = {"pagination.limit": "3", "pagination.offset": str(offset)}
        body = await (await client.get("/v1/images", params=params)).json()
        seen += [i["id"] for i in body["images"]]
    assert len(seen) == 10
    assert len(set(seen)) == 10


@pytest.mark.parametrize(("limit", "expected"), [("0", 12), ("-5", 12), ("5000", 12), ("4", 4)])
async def test_list_limits(client: Any, put_images: Any, limit: str, expected: int) -> None:
    await put_images(image(f"docker.io/x/app{i}:1") for i in range(12))
    params = {"pagination.limit": limit, "pagination.offset": "-3"}
    body = await (await client.get("/v1/images", params=params)).json()
    assert len(body["images"]) == expected


async def test_sort_by_image_reversed_is_the_exact_reverse(client: Any, put_images: Any) -> None:
    names = ["quay.io/b/x:1", "docker.io/a/y:2", "docker.io/a/y:1", "gcr.io/c/z:9"]
    await put_images(image(n) for n in names)
    forward = await (
        await client.get("/v1/images", params={"pagination.sortOption.field": "Image"})
    ).json()
    backward = await (
        await client.get(
            "/v1/images",
            params={
                "pagination.sort_option.field": "Image",
                "pagination.sortOption.reversed": "true",
            },
        )
    ).json()
    names_fwd = [i["name"] for i in forward["images"]]
    assert names_fwd == ["docker.io/a/y:1", "docker.io/a/y:2", "gcr.io/c/z:9", "quay.io/b/x:1"]
    assert [i["name"] for i in backward["images"]] == list(reversed(names_fwd))


async def test_sort_by_risk_priority(client: Any, put_images: Any) -> None:
    await put_images([NGINX, REDIS, UNSCANNED])
    params = {"pagination.sortOption.field": "Image Risk Priority"}
    body = await (await client.get("/v1/images", params=params)).json()
    assert [int(i["priority"]) for i in body["images"]] == [1, 2, 3]


async def test_sort_by_joined_field_and_aggregate(client: Any, put_images: Any) -> None:
    await put_images([NGINX, REDIS, UNSCANNED])
    params = {"pagination.sortOption.field": "CVSS", "pagination.sortOption.reversed": "true"}
    body = await (await client.get("/v1/images", params=params)).json()
    assert [i["id"] for i in body["images"]] == [NGINX["id"], REDIS["id"], UNSCANNED["id"]]
    params = {
        "pagination.sortOption.field": "CVE",
        "pagination.sortOption.aggregateBy.aggrFunc": "COUNT",
        "pagination.sortOption.aggregateBy.distinct": "true",
    }
    body = await (await client.get("/v1/images", params=params)).json()
    assert [i["id"] for i in body["images"]][:2] == [UNSCANNED["id"], REDIS["id"]]


async def test_count_of_a_component_field_counts_components(client: Any, put_images: Any) -> None:
    many_vulns = image(
        "docker.io/a/one-component:1",
        component("openssl", "1", *(vuln(f"CVE-2024-{i}", 5.0, "MODERATE") for i in range(5))),
    )
    many_components = image(
        "docker.io/a/three-components:1", *(component(f"lib{i}", "1") for i in range(3))
    )
    await put_images([many_vulns, many_components])
    params = {
        "pagination.sortOption.field": "Component",
        "pagination.sortOption.aggregateBy.aggrFunc": "COUNT",
        "pagination.sortOption.reversed": "true",
    }
    body = await (await client.get("/v1/images", params=params)).json()
    assert [i["id"] for i in body["images"]] == [many_components["id"], many_vulns["id"]]


async def test_sort_by_unknown_field_is_400(client: Any) -> None:
    params = {"pagination.sortOption.field": "Colour"}
    response = await client.get("/v1/images", params=params)
    assert response.status == 400
    assert_error(await response.json(), 3, "Colour")
