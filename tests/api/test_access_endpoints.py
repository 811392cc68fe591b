"""Tokens, roles and the caller's status over HTTP; 401/403 in upstream's shape and words."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from app.auth.permissions import ADMIN, ANALYST, CONTINUOUS_INTEGRATION, NONE, RESOURCES
from app.config import Settings
from app.main import create_app
from tests.support.access import bearer

ISSUER_ROLE = {"Access": "READ_ACCESS", "Integration": "READ_WRITE_ACCESS", "Image": "READ_ACCESS"}


async def generate(session: Any, headers: dict[str, str], **body: Any) -> aiohttp.ClientResponse:
    return await session.post("/v1/apitokens/generate", json=body, headers=headers)


async def test_a_generated_token_works_and_its_metadata_is_upstreams(client: Any) -> None:
    response = await generate(client, {}, name="ci", roles=[CONTINUOUS_INTEGRATION])
    assert response.status == 200
    body = await response.json()
    metadata = body["metadata"]
    assert set(metadata) == {"id", "name", "roles", "issuedAt", "expiration", "revoked", "role"}
    assert metadata["roles"] == [CONTINUOUS_INTEGRATION]
    assert metadata["role"] == CONTINUOUS_INTEGRATION
    assert metadata["revoked"] is False
    assert metadata["issuedAt"].endswith("Z")
    expires = datetime.fromisoformat(metadata["expiration"])
    assert timedelta(days=364) < expires - datetime.now(UTC) <= timedelta(days=365)
    token = body["token"]
    assert len(token) >= 40
    status = await (await client.get("/v1/auth/status", headers=bearer(token))).json()
    assert status["userId"] == metadata["id"]
    assert status["userInfo"]["username"] == "ci"
    assert status["userInfo"]["roles"][0]["name"] == CONTINUOUS_INTEGRATION
    assert status["authProvider"] == {"name": "API Token", "type": "api-token"}
    assert datetime.fromisoformat(status["expires"]) == expires
    listed = await (await client.get(f"/v1/apitokens/{metadata['id']}")).json()
    assert listed == metadata


async def test_the_deprecated_single_role_and_an_explicit_expiration(client: Any) -> None:
    response = await generate(
        client, {}, name="old", role=ANALYST, expiration="2999-01-02T03:04:05Z"
    )
    metadata = (await response.json())["metadata"]
    assert metadata["roles"] == [ANALYST]
    assert metadata["expiration"] == "2999-01-02T03:04:05Z"


async def test_bad_generate_requests_are_400(client: Any) -> None:
    for body in (
        {"name": "", "roles": [ADMIN]},
        {"name": "x"},
        {"name": "x", "roles": ["No Such Role"]},
        {"name": "x", "roles": [ADMIN], "expiration": "2001-01-01T00:00:00Z"},
    ):
        response = await generate(client, {}, **body)
        assert response.status == 400, body
        assert (await response.json())["code"] == 3


async def test_nobody_issues_a_token_with_more_than_they_hold(client: Any, token_for: Any) -> None:
    created = await client.post("/v1/roles/Issuer", json={"resourceToAccess": ISSUER_ROLE})
    assert created.status == 200
    issuer = bearer(await token_for("Issuer"))
    refused = await generate(client, issuer, name="up", roles=[ADMIN])
    assert refused.status == 403
    body = await refused.json()
    assert body["code"] == 7
    assert body["message"].startswith('not authorized: "READ_WRITE_ACCESS" for "')
    assert (await generate(client, issuer, name="same", roles=["Issuer"])).status == 200
    assert (await generate(client, issuer, name="less", roles=[NONE])).status == 200
    allowed = await (
        await client.get("/v1/apitokens/generate/allowed-roles", headers=issuer)
    ).json()
    assert ADMIN not in allowed["roleNames"]
    assert {NONE, "Issuer"} <= set(allowed["roleNames"])
    analyst = bearer(await token_for(ANALYST))
    refused = await generate(client, analyst, name="x", roles=[NONE])
    assert (await refused.json())["message"] == (
        'not authorized: "READ_WRITE_ACCESS" for "Integration"'
    )


async def test_revoked_tokens_are_listed_and_refused(client: Any) -> None:
    body = await (await generate(client, {}, name="short-lived", roles=[ANALYST])).json()
    token, token_id = body["token"], body["metadata"]["id"]
    assert (await client.get("/v1/imagescount", headers=bearer(token))).status == 200
    revoked = await client.patch(f"/v1/apitokens/revoke/{token_id}")
    assert revoked.status == 200
    assert await revoked.json() == {}
    refused = await client.get("/v1/imagescount", headers=bearer(token))
    assert refused.status == 401
    assert (
        refused.headers["WWW-Authenticate"] == 'Bearer realm="image-service", error="invalid_token"'
    )
    revoked_ids = [
        t["id"] for t in (await (await client.get("/v1/apitokens?revoked=true")).json())["tokens"]
    ]
    live = await (await client.get("/v1/apitokens", params={"revoked": "false"})).json()
    assert revoked_ids == [token_id]
    assert token_id not in {t["id"] for t in live["tokens"]}
    everything = await (await client.get("/v1/apitokens")).json()
    assert {token_id} | {t["id"] for t in live["tokens"]} == {t["id"] for t in everything["tokens"]}


async def test_a_revocation_reaches_another_replica_within_5_seconds(
    client: Any, aiohttp_client: Any, settings: Settings, db: Any, admin_token: str
) -> None:
    other = await aiohttp_client(create_app(settings, db=db))
    body = await (await generate(client, {}, name="shared", roles=[ANALYST])).json()
    headers = bearer(body["token"])
    assert (await other.get("/v1/imagescount", headers=headers)).status == 200  # now cached
    await client.patch(f"/v1/apitokens/revoke/{body['metadata']['id']}")
    started = asyncio.get_running_loop().time()
    while (await other.get("/v1/imagescount", headers=headers)).status == 200:
        assert asyncio.get_running_loop().time() - started < 5.0
        await asyncio.sleep(0.2)
    assert (await other.get("/v1/imagescount", headers=headers)).status == 401


async def test_my_permissions_list_every_resource(client: Any, token_for: Any) -> None:
    ci = bearer(await token_for(CONTINUOUS_INTEGRATION))
    body = await (await client.get("/v1/mypermissions", headers=ci)).json()
    expected = dict.fromkeys(RESOURCES, "NO_ACCESS")
    expected |= {"Image": "READ_WRITE_ACCESS", "Detection": "READ_ACCESS"}
    assert body == {"resourceToAccess": expected}


async def test_roles_list_the_built_in_ones_then_custom_ones(client: Any) -> None:
    assert (
        await client.post("/v1/roles/Viewer", json={"resourceToAccess": {"Image": "READ_ACCESS"}})
    ).status == 200
    roles = (await (await client.get("/v1/roles")).json())["roles"]
    assert [r["name"] for r in roles] == [ADMIN, ANALYST, CONTINUOUS_INTEGRATION, NONE, "Viewer"]
    assert roles[-1]["resourceToAccess"]["Image"] == "READ_ACCESS"
    assert roles[-1]["resourceToAccess"]["WatchedImage"] == "NO_ACCESS"
    assert set(roles[0]) == {"name", "description", "resourceToAccess"}
    for path, body in (
        ("/v1/roles/Admin", {}),
        ("/v1/roles/Viewer", {}),
        ("/v1/roles/Bad", {"resourceToAccess": {"Image": "EVERYTHING"}}),
        ("/v1/roles/Bad", {"resourceToAccess": {"Nothing": "READ_ACCESS"}}),
        ("/v1/roles/Bad", {"name": "Other"}),
    ):
        response = await client.post(path, json=body)
        assert response.status == 400, (path, body)


async def test_analyst_reads_and_cannot_delete_scan_or_watch(client: Any, token_for: Any) -> None:
    analyst = bearer(await token_for(ANALYST))
    assert (await client.get("/v1/images", headers=analyst)).status == 200
    assert (await client.get("/v1/watchedimages", headers=analyst)).status == 200
    for method, path, body, needed in (
        ("DELETE", "/v1/images?query.query=Image:*&confirm=true", None, "Image"),
        ("POST", "/v1/images/scan", {"imageName": "nginx"}, "Image"),
        ("POST", "/v1/watchedimages", {"name": "nginx:1"}, "WatchedImage"),
    ):
        response = await client.request(method, path, json=body, headers=analyst)
        assert response.status == 403
        assert (await response.json())["message"] == (
            f'not authorized: "READ_WRITE_ACCESS" for "{needed}"'
        )


async def test_ci_scans_and_cannot_watch(client: Any, token_for: Any) -> None:
    ci = bearer(await token_for(CONTINUOUS_INTEGRATION))
    scan = await client.post("/v1/images/scan", json={"imageName": ""}, headers=ci)
    assert scan.status == 400  # past the permission check, refused for the empty name
    watch = await client.post("/v1/watchedimages", json={"name": "nginx:1"}, headers=ci)
    assert watch.status == 403
    assert (await client.get("/v1/watchedimages", headers=ci)).status == 403


async def test_unknown_paths_under_v1_need_credentials_first(
    client: Any, anonymous: aiohttp.ClientSession
) -> None:
    response = await anonymous.get("/v1/nothing-here")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="image-service"'
    assert (await response.json())["message"] == "credentials not found"
    assert (await client.get("/v1/nothing-here")).status == 404
    assert (await anonymous.get("/nothing-here")).status == 404
    assert (await anonymous.get("/v1/ping")).status == 200
    assert (await anonymous.get("/api/docs/openapi.json")).status == 200


async def test_malformed_authorization_headers_are_401(anonymous: aiohttp.ClientSession) -> None:
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "isvc_token"):
        response = await anonymous.get("/v1/imagescount", headers={"Authorization": header})
        assert response.status == 401, header
        body = await response.json()
        assert body["code"] == 16
        assert "Bearer" in response.headers["WWW-Authenticate"]


async def test_metrics_need_the_metrics_token_when_one_is_set(
    aiohttp_client: Any, settings: Settings, db: Any, admin_token: str
) -> None:
    app = create_app(replace(settings, metrics_token="scrape-secret"), db=db)
    scraper = await aiohttp_client(app)
    assert (await scraper.get("/metrics")).status == 401
    assert (await scraper.get("/metrics", headers=bearer(admin_token))).status == 401
    assert (await scraper.get("/metrics", headers=bearer("scrape-secret"))).status == 200
    assert (await scraper.get("/livez")).status == 200


async def test_the_openapi_document_declares_the_bearer_scheme(client: Any) -> None:
    spec = await (await client.get("/api/docs/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert spec["paths"]["/v1/images"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/v1/ping"]["get"]
    assert "/v1/apitokens/generate" in spec["paths"]
