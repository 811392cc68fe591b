"""Every kind of sort over HTTP, on every store, against orders computed here from the images.

The expected order is computed in Python from the wire images: per image the aggregate a sort
option names (MIN ascending / MAX descending for a component, CVE or layer field, or the
COUNT/MIN/MAX asked for), nulls last in both directions, ties on the digest in the direction of
the sort.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import pytest

from tests.support.images import component, image, vuln

SEVERITY = {"LOW": 1, "MODERATE": 2, "IMPORTANT": 3, "CRITICAL": 4}


def _with_layers(img: dict[str, Any], *instructions: str) -> dict[str, Any]:
    img["metadata"]["v1"]["layers"] = [{"instruction": i, "value": "x"} for i in instructions]
    return img


def _stamp(i: int) -> str:
    return f"2024-06-{i + 1:02d}T00:00:00Z"


IMAGES = [
    image(
        "docker.io/library/nginx:1.25",
        component(
            "openssl",
            "3.0.11",
            vuln("CVE-2023-5678", 7.5, "IMPORTANT", fixed_by="3.0.13"),
            vuln("CVE-2023-0001", 9.8, "CRITICAL"),
            vuln("CVE-2022-4444", 5.0, "MODERATE", published=None),
        ),
        component("zlib", "1.2.13"),
        command=["nginx", "-g", "daemon off;"],
        last_updated=_stamp(0),
    ),
    image(
        "quay.io/org/redis:7",
        component("libc", "2.36", vuln("CVE-2023-5678", 7.5, "IMPORTANT", fixed_by="2.37")),
        last_updated=_stamp(1),
    ),
    image(
        "quay.io/org/redis:8",
        component("libc", "2.37", vuln("CVE-2023-5678", 7.5, "IMPORTANT", fixed_by="2.38")),
        created="2023-01-01T00:00:00Z",
        last_updated=_stamp(1),  # the same time as redis:7: ties break on the digest
    ),
    image("ghcr.io/team/app:latest", scanned=None, created=None, last_updated=_stamp(3)),
    image("ghcr.io/team/empty:1", command=["a"], last_updated=_stamp(4)),  # no components
    _with_layers(
        image(
            "docker.io/library/bash:5",
            component("bash", "5.2"),
            component("zlib", "1.2.12"),
            last_updated=_stamp(5),
        ),
        "ADD",
        "RUN",
        "CMD",
    ),
    image(
        "docker.io/many/components:1",
        *(
            component(f"lib{i}", "1", vuln("CVE-2024-1", 4.0, "LOW", published=None))
            for i in range(4)
        ),
        created="2025-01-01T00:00:00Z",
        last_updated=_stamp(6),
    ),
    _with_layers(
        image(
            "docker.io/library/alpine:3.19",
            component(
                "musl", "1.2", vuln("CVE-2024-2", 9.8, "CRITICAL", published="2020-05-05T00:00:00Z")
            ),
            component("busybox", "1.36", vuln("CVE-2024-3", 6.1, "MODERATE")),
            command=["/bin/sh"],
            last_updated=_stamp(7),
        ),
    ),
]


# Per label: how to read an image's value (scalar) or values (a list) from the wire image.
def _vulns(img: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for c in _components(img) for v in c.get("vulns") or []]


def _components(img: dict[str, Any]) -> list[dict[str, Any]]:
    return list((img.get("scan") or {}).get("components") or [])


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _top_cvss(img: dict[str, Any]) -> float | None:
    scores = [v["cvss"] for v in _vulns(img)]
    return max(scores) if scores else None


def _component_top(c: dict[str, Any]) -> float | None:
    scores = [v["cvss"] for v in c.get("vulns") or []]
    return max(scores) if scores else None


Reader = Callable[[dict[str, Any]], Any]
# label → (multi-valued, reader); a multi reader gives (component index, value) pairs, so that a
# component field's COUNT can count components.
SCALARS: dict[str, Reader] = {
    "Image Registry": lambda i: i["name"]["registry"],
    "Image Remote": lambda i: i["name"]["remote"],
    "Image Tag": lambda i: i["name"]["tag"],
    "image": lambda i: i["name"]["fullName"],
    "Image Top CVSS": _top_cvss,
    "Image CVE Count": lambda i: len({v["cve"] for v in _vulns(i)}) if i.get("scan") else None,
    "Image Created Time": lambda i: _time(i["metadata"]["v1"]["created"]),
    "Last Updated": lambda i: _time(i["lastUpdated"]),
}
MULTI: dict[str, Reader] = {
    "CVSS": lambda i: [(n, v["cvss"]) for n, c in enumerate(_components(i)) for v in c["vulns"]],
    "CVE": lambda i: [
        (n, v["cve"].lower()) for n, c in enumerate(_components(i)) for v in c["vulns"]
    ],
    "Severity": lambda i: [
        (n, SEVERITY[v["severity"].split("_")[0]])
        for n, c in enumerate(_components(i))
        for v in c["vulns"]
    ],
    "Fixable": lambda i: [
        (n, int(bool(v.get("fixedBy")))) for n, c in enumerate(_components(i)) for v in c["vulns"]
    ],
    "CVE Published On": lambda i: [
        (n, _time(v["publishedOn"]))
        for n, c in enumerate(_components(i))
        for v in c["vulns"]
        if v["publishedOn"]
    ],
    "Component": lambda i: [(n, c["name"].lower()) for n, c in enumerate(_components(i))],
    "Component Version": lambda i: [
        (n, c["version"].lower()) for n, c in enumerate(_components(i))
    ],
    "Component Top CVSS": lambda i: [
        (n, _component_top(c))
        for n, c in enumerate(_components(i))
        if _component_top(c) is not None
    ],
    "Dockerfile Instruction Keyword": lambda i: [
        (n, layer["instruction"].lower()) for n, layer in enumerate(i["metadata"]["v1"]["layers"])
    ],
    "Image Command": lambda i: list(enumerate(i["metadata"]["v1"]["command"])),
}
REWRITES = {
    "Image": ["Image Registry", "Image Remote", "Image Tag"],
    "Component": ["Component", "Component Version"],
}
COMPONENT_FIELDS = {"Component", "Component Version", "Component Top CVSS"}


def _key(img: dict[str, Any], label: str, ascending: bool, aggr: str, distinct: bool) -> Any:
    if label in SCALARS:
        value = SCALARS[label](img)
        return int(value is not None) if aggr == "COUNT" else value
    pairs = MULTI[label](img)
    values = [v for _, v in pairs]
    if aggr == "COUNT":
        if distinct:
            return len(set(values))
        return len({n for n, _ in pairs}) if label in COMPONENT_FIELDS else len(values)
    if not values:
        return None
    low = aggr == "MIN" or (aggr == "UNSET" and ascending)
    return min(values) if low else max(values)


def expected_order(option: tuple[str, bool, str, bool]) -> list[str]:
    label, reversed_, aggr, distinct = option
    labels = REWRITES.get(label, [label])
    direction = -1 if reversed_ else 1
    keyed = [
        ([_key(img, lb, not reversed_, aggr, distinct) for lb in labels], img["id"])
        for img in IMAGES
    ]

    def compare(a: tuple[list[Any], str], b: tuple[list[Any], str]) -> int:
        for x, y in zip(a[0], b[0], strict=True):
            if x is None or y is None:  # nulls last, whatever the direction
                if (x is None) != (y is None):
                    return 1 if x is None else -1
                continue
            if x != y:
                return direction if x > y else -direction
        return direction if a[1] > b[1] else -direction

    return [digest for _, digest in sorted(keyed, key=functools.cmp_to_key(compare))]


OPTIONS = (
    [
        (label, reversed_, "UNSET", False)
        for label in [*SCALARS, *MULTI, "Image"]
        if label not in ("Image Registry", "Image Remote", "Image Tag")
        for reversed_ in (False, True)
    ]
    + [
        (label, reversed_, aggr, distinct)
        for label in (
            "CVSS",
            "CVE",
            "Component",
            "Component Top CVSS",
            "CVE Published On",
            "Image Command",
        )
        for reversed_ in (False, True)
        for aggr, distinct in (("COUNT", False), ("COUNT", True), ("MIN", False), ("MAX", False))
    ]
    + [
        (label, reversed_, "COUNT", False)
        for label in ("Image Top CVSS", "Image Created Time", "Image Tag")
        for reversed_ in (False, True)
    ]
)


def _params(option: tuple[str, bool, str, bool], **extra: str) -> dict[str, str]:
    label, reversed_, aggr, distinct = option
    return {
        "pagination.sortOption.field": label,
        "pagination.sortOption.reversed": str(reversed_).lower(),
        "pagination.sortOption.aggregateBy.aggrFunc": aggr,
        "pagination.sortOption.aggregateBy.distinct": str(distinct).lower(),
        **extra,
    }


@pytest.fixture
async def stored(put_images: Any) -> None:
    await put_images(IMAGES)


async def test_every_sort_gives_the_computed_order(client: Any, stored: None) -> None:
    wrong = {}
    for option in OPTIONS:
        response = await client.get("/v1/images", params=_params(option))
        assert response.status == 200, option
        got = [i["id"] for i in (await response.json())["images"]]
        if got != expected_order(option):
            wrong[option] = got
    assert not wrong, sorted(wrong)


def test_the_expected_orders_are_not_trivial() -> None:
    # the data set tells the sorts apart: a test that every order equals one list proves nothing
    orders = {tuple(expected_order(option)) for option in OPTIONS}
    assert len(orders) > len(OPTIONS) // 3


async def _pages_by_cursor(client: Any, params: dict[str, str]) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        extra = {"pagination.cursor": cursor} if cursor else {}
        response = await client.get("/v1/images", params={**params, **extra})
        assert response.status == 200, await response.text()
        body = await response.json()
        pages += 1
        ids += [i["id"] for i in body["images"]]
        cursor = body.get("nextCursor")
        if cursor is None:
            return ids, pages
        assert len(body["images"]) == int(params["pagination.limit"])


CURSOR_SORTS = [
    (None, False, "UNSET", False),
    ("Image", True, "UNSET", False),
    ("Image Top CVSS", False, "UNSET", False),
    ("Image Top CVSS", True, "UNSET", False),
    ("CVSS", False, "UNSET", False),
    ("CVE", True, "COUNT", True),
    ("Component", False, "UNSET", False),
    ("Image Created Time", False, "UNSET", False),
    ("CVE Published On", True, "MIN", False),
]


@pytest.mark.parametrize("limit", [1, 3])
async def test_cursor_pages_equal_offset_pages(client: Any, stored: None, limit: int) -> None:
    for option in CURSOR_SORTS:
        params = {"pagination.limit": str(limit)}
        if option[0] is not None:
            params.update(_params(option))
        by_cursor, pages = await _pages_by_cursor(client, params)
        by_offset: list[str] = []
        for offset in range(0, len(IMAGES) + limit, limit):
            body = await (
                await client.get("/v1/images", params={**params, "pagination.offset": str(offset)})
            ).json()
            by_offset += [i["id"] for i in body["images"]]
        assert by_cursor == by_offset, option
        assert sorted(by_cursor) == sorted(i["id"] for i in IMAGES), option
        assert pages >= len(IMAGES) // limit


async def test_no_next_cursor_on_a_page_that_is_not_full(client: Any, stored: None) -> None:
    body = await (await client.get("/v1/images", params={"pagination.limit": "100"})).json()
    assert len(body["images"]) == len(IMAGES)
    assert "nextCursor" not in body


async def test_a_cursor_continues_with_a_query(client: Any, stored: None) -> None:
    params = {
        "query": "Image Registry:docker.io",
        "pagination.limit": "2",
        **_params(("CVSS", True, "UNSET", False)),
    }
    ids, _ = await _pages_by_cursor(client, params)
    wanted = [d for d in expected_order(("CVSS", True, "UNSET", False)) if d in _docker_io()]
    assert ids == wanted


def _docker_io() -> set[str]:
    return {i["id"] for i in IMAGES if i["name"]["registry"] == "docker.io"}


async def _first_cursor(client: Any, params: dict[str, str]) -> str:
    body = await (await client.get("/v1/images", params={**params, "pagination.limit": "2"})).json()
    cursor: str = body["nextCursor"]
    return cursor


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"query": "Image:docker.io"}, "another query or sort"),
        ({"pagination.sortOption.field": "Image"}, "another query or sort"),
        ({"pagination.sortOption.reversed": "true"}, "another query or sort"),
        ({"pagination.sortOption.aggregateBy.aggrFunc": "COUNT"}, "another query or sort"),
        ({"pagination.offset": "2"}, "exclude each other"),
    ],
)
async def test_a_cursor_used_with_another_request_is_400(
    client: Any, stored: None, change: dict[str, str], fragment: str
) -> None:
    params = _params(("CVSS", False, "UNSET", False))
    cursor = await _first_cursor(client, params)
    response = await client.get(
        "/v1/images", params={**params, **change, "pagination.cursor": cursor}
    )
    assert response.status == 400
    body = await response.json()
    assert body["code"] == 3
    assert fragment in body["message"]


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "!!!!",
        "eyJ2IjoxfQ",  # {"v":1}
        # the right shape with a value an operator could hide in
        "eyJ2IjoxLCJzIjpbXSwicCI6W3siJGd0IjoxfV19",
        "a" * 5000,
    ],
)
async def test_a_malformed_cursor_is_400(client: Any, stored: None, cursor: str) -> None:
    response = await client.get("/v1/images", params={"pagination.cursor": cursor})
    assert response.status == 400
    body = await response.json()
    assert body["code"] == 3
    assert "pagination.cursor" in body["message"]


async def test_a_cursor_with_another_number_of_keys_is_400(client: Any, stored: None) -> None:
    # a default-sort cursor edited to name one more key than the sort has
    cursor = await _first_cursor(client, {})
    body = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    body["p"].append(1)
    forged = base64.urlsafe_b64encode(orjson.dumps(body)).decode().rstrip("=")
    response = await client.get("/v1/images", params={"pagination.cursor": forged})
    assert response.status == 400
    assert "does not fit the sort" in (await response.json())["message"]
