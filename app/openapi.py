"""The OpenAPI 3 document, generated from the handlers' schemas, and Swagger UI."""

from __future__ import annotations

import warnings

from aiohttp import web
from aiohttp_apigami import OpenApiVersion, setup_aiohttp_apispec

from schemas.errors import ErrorBody

OPENAPI_URL = "/api/docs/openapi.json"
SWAGGER_UI_PATH = "/api/docs"
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
    spec = app.get("swagger_dict") or {}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.pop("produces", None)


def setup_openapi(app: web.Application) -> None:
    # apigami keeps its state under plain string keys; the warning is about its code, not ours.
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module="aiohttp_apigami")
    apispec = setup_aiohttp_apispec(
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
    apispec.spec.components.security_scheme(
        BEARER_AUTH,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token of this service, or a JWT of a configured OIDC issuer",
        },
    )
    app.on_startup.append(_strip_swagger2_keys)  # after apigami's own registration
