"""The OpenAPI 3 document, generated from the handlers' schemas, and Swagger UI."""

from __future__ import annotations

import warnings

from aiohttp import web
from aiohttp_apigami import OpenApiVersion, setup_aiohttp_apispec

from schemas.errors import ErrorBody

# aiohttp-apigami keeps its state under plain string keys; the warning is about its code, not ours.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module="aiohttp_apigami")

OPENAPI_URL = "/api/docs/openapi.json"
SWAGGER_UI_PATH = "/api/docs"
# Every operation can fail with the upstream error body.
ERRORS = {
    "default": {
        "description": "error `{code, message, details, error}`; HTTP status from the gRPC code",
        "schema": ErrorBody,
    }
}


def setup_openapi(app: web.Application) -> None:
    setup_aiohttp_apispec(
        app,
        title="Image Service",
        version="v1",
        url=OPENAPI_URL,
        swagger_path=SWAGGER_UI_PATH,
        openapi_version=OpenApiVersion.V303,
        info={
            "description": "Container image inventory and vulnerability service speaking the "
            "RHACS Image Service REST API v1."
        },
    )
