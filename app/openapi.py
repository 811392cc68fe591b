"""The OpenAPI 3 document, generated from the handlers' schemas, and Swagger UI."""

from __future__ import annotations

import warnings
from pathlib import Path
from string import Template

from aiohttp import web
from aiohttp_apigami import OpenApiVersion, setup_aiohttp_apispec
from aiohttp_apigami.constants import SWAGGER_DICT
from aiohttp_apigami.swagger_ui import SWAGGER_UI_STATIC_FILES

from app.http import dumps
from app.pipeline import Handler, Pipeline, RoutePolicy
from schemas.errors import ErrorBody

OPENAPI_URL = "/api/docs/openapi.json"
SWAGGER_UI_PATH = "/api/docs"
SWAGGER_STATIC_PATH = "/static/swagger"
OPEN = RoutePolicy(guard=None)  # the API's description is public, as upstream's is
# The security scheme of every operation that needs a token (API token or OIDC JWT).
BEARER_AUTH = "bearerAuth"
# Every operation can fail with the upstream error body.
ERRORS = {
    "default": {
        "description": "error `{code, message, details, error}`; HTTP status from the gRPC code",
        "schema": ErrorBody,
    }
}


async def _strip_swagger2_keys(app: web.Application) -> None:
    """apigami leaves Swagger 2's `produces` on operations; OpenAPI 3 has no such key."""
    spec = app.get(SWAGGER_DICT) or {}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.pop("produces", None)


async def _openapi_document(request: web.Request) -> web.Response:
    return web.Response(body=dumps(request.app[SWAGGER_DICT]), content_type="application/json")


def _swagger_ui_page() -> bytes:
    """Swagger UI's page (the packaged one), pointed at our document and static files."""
    template = Template((SWAGGER_UI_STATIC_FILES / "index.html").read_text(encoding="utf-8"))
    page = template.substitute(
        path=OPENAPI_URL, static=SWAGGER_STATIC_PATH, layout="StandaloneLayout"
    )
    return page.encode()


def _swagger_ui_handlers() -> tuple[Handler, Handler]:
    page = _swagger_ui_page()
    # only the files packaged with Swagger UI, by name: no path from the request reaches the disk
    files: dict[str, Path] = {
        entry.name: entry for entry in SWAGGER_UI_STATIC_FILES.iterdir() if entry.is_file()
    }

    async def swagger_ui(request: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html")

    async def swagger_file(request: web.Request) -> web.StreamResponse:
        found = files.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return web.FileResponse(found)

    return swagger_ui, swagger_file


def setup_openapi(app: web.Application, pipeline: Pipeline) -> None:
    """The OpenAPI document at OPENAPI_URL and Swagger UI at SWAGGER_UI_PATH, served through
    the request pipeline (apigami only builds the document, at start-up)."""
    # apigami keeps its state under plain string keys; the warning is about its code, not ours.
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module="aiohttp_apigami")
    apispec = setup_aiohttp_apispec(
        app,
        title="Image Service",
        version="v1",
        url="",  # no routes of its own: ours below go through the pipeline
        openapi_version=OpenApiVersion.V303,
        info={
            "description": "Container image inventory and vulnerability service speaking the "
            "RHACS Image Service REST API v1."
        },
    )
    apispec.spec.components.security_scheme(
        BEARER_AUTH,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token of this service, or a JWT of a configured OIDC issuer",
        },
    )
    app.on_startup.append(_strip_swagger2_keys)  # after apigami's own registration
    swagger_ui, swagger_file = _swagger_ui_handlers()
    pipeline.add("GET", OPENAPI_URL, _openapi_document, OPEN)
    pipeline.add("GET", SWAGGER_UI_PATH, swagger_ui, OPEN)
    pipeline.add("GET", SWAGGER_STATIC_PATH + "/{name}", swagger_file, OPEN)
