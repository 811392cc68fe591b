"""Response and error schemas dump swagger-valid JSON with every field; OpenAPI generation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from app.error_rendering import ApiError, error_response, export_error_line
from app.errors import GrpcCode
from app.handlers.export import result_line
from app.http import dumps
from schemas import errors, requests, responses
from schemas.image import ImageSchema, ListImageSchema, normalize_image
from tests.support.realistic import DIGEST, make_image
from tests.support.swagger import assert_all_fields_present, validate_definition

LIST_IMAGE = ListImageSchema().load({"id": DIGEST, "name": "docker.io/library/nginx:1.25"})


def check(definition: str, schema: Schema, data: Any) -> Any:
    body = json.loads(dumps(schema.dump(data)))
    validate_definition(definition, body)
    assert_all_fields_present(definition, body)
    return body


@pytest.mark.parametrize(
    ("definition", "schema", "data", "expected"),
    [
        ("v1CountImagesResponse", responses.CountImagesResponse(), {}, {"count": 0}),
        ("v1CountImagesResponse", responses.CountImagesResponse(), {"count": 17}, {"count": 17}),
        ("v1Empty", responses.Empty(), {}, {}),
        (
            "v1DeleteImagesResponse",
            responses.DeleteImagesResponse(),
            {"numDeleted": 12, "dryRun": True},
            {"numDeleted": 12, "dryRun": True},
        ),
        (
            "v1WatchImageResponse",
            responses.WatchImageResponse(),
            {"normalizedName": "docker.io/library/nginx:latest"},
            {
                "normalizedName": "docker.io/library/nginx:latest",
                "errorType": "NO_ERROR",
                "errorMessage": "",
            },
        ),
        (
            "v1GetWatchedImagesResponse",
            responses.GetWatchedImagesResponse(),
            {},
            {"watchedImages": []},
        ),
        ("v1ListImagesResponse", responses.ListImagesResponse(), {}, {"images": []}),
    ],
)
def test_small_responses(definition: str, schema: Schema, data: Any, expected: Any) -> None:
    assert check(definition, schema, data) == expected


def test_list_images_response() -> None:
    body = check("v1ListImagesResponse", responses.ListImagesResponse(), {"images": [LIST_IMAGE]})
    assert body["images"][0] == {
        "id": DIGEST,
        "name": "docker.io/library/nginx:1.25",
        "created": None,
        "lastUpdated": None,
        "priority": "0",
    }


def test_watched_images_carry_our_status_fields() -> None:
    checked = datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    data = {"watchedImages": [{"name": "docker.io/x:1", "lastChecked": checked}, {"name": "y"}]}
    body = check("v1GetWatchedImagesResponse", responses.GetWatchedImagesResponse(), data)
    assert body["watchedImages"] == [
        {
            "name": "docker.io/x:1",
            "lastChecked": "2024-05-01T10:00:00.123000Z",
            "digest": "",
            "error": "",
        },
        {"name": "y", "lastChecked": None, "digest": "", "error": ""},
    ]


def test_export_lines() -> None:
    image = normalize_image(make_image(2, 3))
    line = result_line(image)
    assert line.endswith(b"}\n")
    assert line.count(b"\n") == 1
    decoded = json.loads(line)
    validate_definition("v1ExportImageResponse", decoded["result"])
    assert responses.ExportStreamLine().dump({"result": {"image": image}}) == decoded
    error = ApiError(GrpcCode.DEADLINE_EXCEEDED, 504, "deadline exceeded")
    error_line = json.loads(export_error_line(error))
    assert responses.ExportStreamLine().dump(error_line) == error_line
    validate_definition("googleRpcStatus", error_line["error"])
    assert_all_fields_present("googleRpcStatus", error_line["error"])


def test_error_body() -> None:
    message = 'image with id "sha256:abc" does not exist: not found'
    body = json.loads(error_response(ApiError(GrpcCode.NOT_FOUND, 404, message)).body)
    assert errors.ErrorBody().dump(body) == body
    assert body["error"] == body["message"]
    assert body["details"] == []
    validate_definition("googlerpcStatus", body)
    assert_all_fields_present("googleRpcStatus", body)
    assert errors.ErrorBody().dump({"code": 3}) == {
        "code": 3,
        "message": "",
        "details": [],
        "error": "",
    }


def test_openapi_document_builds_without_warnings() -> None:
    spec = APISpec(title="t", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    query = {"in": "query", "schema": requests.DeleteImagesParams}
    ok = {"content": {"application/json": {"schema": responses.ExportStreamLine}}}
    spec.path(path="/a", operations={"get": {"parameters": [query], "responses": {"200": ok}}})
    body = {"content": {"application/json": {"schema": requests.ScanImageRequest}}}
    image = {"content": {"application/json": {"schema": ImageSchema}}}
    error = {"content": {"application/json": {"schema": errors.ErrorBody}}}
    post = {"requestBody": body, "responses": {"200": image, "default": error}}
    spec.path(path="/b", operations={"post": post})
    for schema in (responses.ListImagesResponse, responses.GetWatchedImagesResponse):
        spec.path(path=f"/{schema.__name__}", operations={"get": {"responses": {"200": {
            "content": {"application/json": {"schema": schema}}}}}})  # fmt: skip
    document = spec.to_dict()
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/a"]["get"]["parameters"]}
    assert parameters["query.pagination.sortOption.aggregateBy.aggrFunc"]["enum"] == [
        "UNSET",
        "COUNT",
        "MIN",
        "MAX",
    ]
    assert parameters["query.pagination.limit"] == {
        "type": "integer",
        "format": "int32",
        "default": 0,
    }
    components = document["components"]["schemas"]
    assert components["Image"]["properties"]["priority"] == {"type": "string", "format": "int64"}
    assert components["Image"]["properties"]["topCvss"]["x-oneof"] is True
    assert components["ImageScan"]["properties"]["hash"]["format"] == "uint64"
    assert components["Image"]["required"] == ["id"]
    assert {"WatchedImageStatus", "ListImage", "ScanImageRequest"} <= set(components)
