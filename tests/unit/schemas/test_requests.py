"""Request schemas: query strings bound like grpc-gateway, JSON bodies like protojson."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from marshmallow import Schema, ValidationError
from multidict import MultiDict
from webargs.aiohttpparser import AIOHTTPParser
from webargs.multidictproxy import MultiDictProxy

from schemas.requests import (
    DeleteImagesParams,
    ExportImagesParams,
    GetImageParams,
    RawQueryParams,
    ScanImageRequest,
    UnwatchImageParams,
    WatchImageRequest,
)

RAW_DEFAULTS = {
    "query": "",
    "limit": 0,
    "offset": 0,
    "sort_field": None,
    "sort_reversed": False,
    "aggr_func": "UNSET",
    "aggr_distinct": False,
}


def load_query(schema: Schema, pairs: list[tuple[str, str]]) -> Any:
    """Load as aiohttp-apigami does: webargs wraps request.query in a MultiDictProxy."""
    return schema.load(MultiDictProxy(MultiDict(pairs), schema))


def test_raw_query_defaults() -> None:
    assert load_query(RawQueryParams(), []) == RAW_DEFAULTS


CAMEL = [
    ("query", "Image Tag:latest"),
    ("pagination.limit", "2"),
    ("pagination.offset", "-1"),
    ("pagination.sortOption.field", "Image Risk Priority"),
    ("pagination.sortOption.reversed", "TRUE"),
    ("pagination.sortOption.aggregateBy.aggrFunc", "COUNT"),
    ("pagination.sortOption.aggregateBy.distinct", "t"),
]
SNAKE = [
    ("query", "Image Tag:latest"),
    ("pagination.limit", "2"),
    ("pagination.offset", "-1"),
    ("pagination.sort_option.field", "Image Risk Priority"),
    ("pagination.sort_option.reversed", "True"),
    ("pagination.sort_option.aggregate_by.aggr_func", "1"),
    ("pagination.sortOption.aggregate_by.distinct", "1"),
]


@pytest.mark.parametrize("pairs", [CAMEL, SNAKE], ids=["camelCase", "snake_case"])
def test_raw_query_in_both_spellings(pairs: list[tuple[str, str]]) -> None:
    assert load_query(RawQueryParams(), pairs) == {
        "query": "Image Tag:latest",
        "limit": 2,
        "offset": -1,
        "sort_field": "Image Risk Priority",
        "sort_reversed": True,
        "aggr_func": "COUNT",
        "aggr_distinct": True,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [(v, True) for v in ("true", "True", "TRUE", "tRuE", "1", "t", "T")]
    + [(v, False) for v in ("false", "False", "FALSE", "0", "f", "F")],
)
def test_bool_forms(text: str, expected: bool) -> None:
    params = load_query(GetImageParams(), [("includeSnoozed", text), ("strip_description", text)])
    assert params == {"include_snoozed": expected, "strip_description": expected}


@pytest.mark.parametrize("text", ["yes", "no", "", "2", "truee", " true"])
def test_bad_bools_name_the_key(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        load_query(GetImageParams(), [("include_snoozed", text)])
    assert list(err.value.messages) == ["include_snoozed"]


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("pagination.limit", "abc"),
        ("pagination.limit", "2147483648"),
        ("pagination.offset", "-2147483649"),
        ("pagination.limit", "1.5"),
        ("pagination.limit", ""),
        ("pagination.limit", " 1"),
        ("pagination.limit", "1_000"),
        ("pagination.sort_option.aggregate_by.aggr_func", "count"),
        ("pagination.sortOption.aggregateBy.aggrFunc", "9"),
    ],
)
def test_bad_numbers_and_enums_name_the_key(key: str, text: str) -> None:
    with pytest.raises(ValidationError) as err:
        load_query(RawQueryParams(), [(key, text)])
    assert list(err.value.messages) == [key]


def test_int32_bounds_are_accepted() -> None:
    pairs = [("pagination.limit", "2147483647"), ("pagination.offset", "-2147483648")]
    params = load_query(RawQueryParams(), pairs)
    assert (params["limit"], params["offset"]) == (2**31 - 1, -(2**31))


def test_unknown_keys_are_ignored() -> None:
    pairs = [("pretty", ""), ("pagination.sortOptions", "x"), ("foo", "1"), ("foo", "2")]
    assert load_query(RawQueryParams(), pairs) == RAW_DEFAULTS


@pytest.mark.parametrize(
    "pairs",
    [
        [("pagination.limit", "1"), ("pagination.limit", "2")],
        [("pagination.sortOption.field", "CVE"), ("pagination.sort_option.field", "CVE")],
    ],
)
def test_a_key_given_twice_is_refused(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(ValidationError) as err:
        load_query(RawQueryParams(), pairs)
    assert "Given more than once." in str(err.value.messages)


def test_empty_sort_field_means_no_sort() -> None:
    assert load_query(RawQueryParams(), [("pagination.sortOption.field", "")])["sort_field"] is None


def test_delete_images_records_whether_a_query_was_given() -> None:
    assert load_query(DeleteImagesParams(), [("confirm", "true")]) == {
        **RAW_DEFAULTS,
        "confirm": True,
        "has_query": False,
    }
    params = load_query(DeleteImagesParams(), [("query.query", "")])
    assert params["has_query"] is True
    assert params["confirm"] is False
    params = load_query(DeleteImagesParams(), [("query.pagination.sort_option.reversed", "1")])
    assert (params["has_query"], params["sort_reversed"]) == (True, True)
    pairs = [("query.query", "Image:x"), ("query.pagination.limit", "2")]
    params = load_query(DeleteImagesParams(), pairs)
    assert (params["query"], params["limit"]) == ("Image:x", 2)
    # the un-prefixed RawQuery keys mean nothing here
    params = load_query(DeleteImagesParams(), [("query", "Image:x"), ("pagination.limit", "2")])
    assert (params["query"], params["limit"], params["has_query"]) == ("", 0, False)


def test_export_and_unwatch() -> None:
    assert load_query(ExportImagesParams(), []) == {"query": "", "timeout": 0}
    params = load_query(ExportImagesParams(), [("query", "CVE:CVE-1"), ("timeout", "-5")])
    assert params == {"query": "CVE:CVE-1", "timeout": -5}
    with pytest.raises(ValidationError) as err:
        load_query(ExportImagesParams(), [("timeout", "10s")])
    assert list(err.value.messages) == ["timeout"]
    assert load_query(UnwatchImageParams(), [("name", "docker.io/x:1")]) == {
        "name": "docker.io/x:1"
    }
    assert load_query(UnwatchImageParams(), []) == {"name": ""}


def test_plain_dicts_and_aiohttp_query_load_too() -> None:
    assert GetImageParams().load({"includeSnoozed": "1"})["include_snoozed"] is True
    request = make_mocked_request("GET", "/v1/images?pagination.limit=3&pagination.limit=4")
    with pytest.raises(ValidationError):
        RawQueryParams().load(request.query)


async def test_through_the_webargs_parser_as_apigami_calls_it() -> None:
    request = make_mocked_request(
        "GET", "/v1/images?query=Image%3Anginx%2BCVE%3ACVE-1&pagination.sort_option.field=CVE"
    )
    params = await AIOHTTPParser().parse(
        RawQueryParams(), request, location="querystring", unknown=None
    )
    assert params["query"] == "Image:nginx+CVE:CVE-1"
    assert params["sort_field"] == "CVE"


def test_scan_request_body_in_both_spellings() -> None:
    expected = {
        "image_name": "nginx:1.25",
        "force": True,
        "include_snoozed": False,
        "cluster": "c1",
        "namespace": "",
    }
    camel = {"imageName": "nginx:1.25", "force": True, "includeSnoozed": False, "cluster": "c1"}
    snake = {"image_name": "nginx:1.25", "force": True, "include_snoozed": None, "cluster": "c1"}
    assert ScanImageRequest().load(camel) == expected
    assert ScanImageRequest().load({**snake, "unknown": 1}) == expected
    assert ScanImageRequest().load({})["image_name"] == ""


def test_body_errors_use_the_clients_spelling() -> None:
    with pytest.raises(ValidationError) as err:
        ScanImageRequest().load({"image_name": 5, "force": "true"})
    assert err.value.messages == {
        "image_name": ["Not a valid string."],
        "force": ["Not a valid boolean."],
    }
    with pytest.raises(ValidationError) as err:
        ScanImageRequest().load({"imageName": 5})
    assert list(err.value.messages) == ["imageName"]
    with pytest.raises(ValidationError) as err:
        ScanImageRequest().load(["nginx"])  # type: ignore[list-item]
    assert err.value.messages == {"_schema": ["Invalid input type."]}


def test_watch_request_body() -> None:
    assert WatchImageRequest().load({"name": "nginx"}) == {"name": "nginx"}
    assert WatchImageRequest().load({"name": None}) == {"name": ""}
    with pytest.raises(ValidationError):
        WatchImageRequest().load({"name": ["nginx"]})
