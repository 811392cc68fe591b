"""What an attacker with curl tried against the access control, answered as it should be."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from app.auth.permissions import ADMIN, ANALYST
from app.config import Settings
from app.main import create_app


async def test_two_authorization_headers_are_refused_whichever_comes_first(
    anonymous: aiohttp.ClientSession, admin_token: str
) -> None:
    # a proxy reading the last header and the service the first must never disagree on who calls
    good, bad = f"Bearer {admin_token}", "Bearer isvc_nobody"
    for first, second in ((good, bad), (bad, good), (good, good)):
        headers = [("Authorization", first), ("Authorization", second)]
        response = await anonymous.get("/v1/imagescount", headers=headers)
        assert response.status == 401, (first[:12], second[:12])
        body = await response.json()
        assert body["code"] == 16
        assert admin_token not in body["message"]
        assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "name",
    [
        "admin",
        "ADMIN",
        "none",
        "continuous integration",
        "Admin\u200b",  # a zero-width space after the name
        "\uff21dmin",  # a fullwidth A
        "An\u00adalyst",  # a soft hyphen inside
    ],
)
async def test_a_custom_role_cannot_pass_for_a_built_in_one(client: Any, name: str) -> None:
    response = await client.post(
        f"/v1/roles/{name}", json={"resourceToAccess": {"Image": "READ_WRITE_ACCESS"}}
    )
    assert response.status == 400, name
    assert (await response.json())["code"] == 3
    roles = await (await client.get("/v1/roles")).json()
    assert len(roles["roles"]) == 4  # the built-in ones only


async def test_a_custom_role_cannot_pass_for_another_custom_one(client: Any) -> None:
    permissions = {"resourceToAccess": {"Image": "READ_ACCESS"}}
    assert (await client.post("/v1/roles/Scanner", json=permissions)).status == 200
    for name in ("scanner", "SCANNER", "\uff33canner"):
        response = await client.post(f"/v1/roles/{name}", json=permissions)
        assert response.status == 400, name
        message = (await response.json())["message"]
        assert message.startswith(f'role "{name}" already exists as role "Scanner"')
    response = await client.post("/v1/roles/admin", json=permissions)
    message = (await response.json())["message"]
    assert message.startswith('role "admin" already exists as built-in role "Admin"')


@pytest.mark.parametrize("name", ["ci\nINFO forged log line", "tab\there", "bell\x07"])
async def test_control_characters_in_names_are_refused(client: Any, name: str) -> None:
    token = await client.post("/v1/apitokens/generate", json={"name": name, "roles": [ANALYST]})
    assert token.status == 400
    tokens = await (await client.get("/v1/apitokens")).json()
    assert [t["name"] for t in tokens["tokens"]] == ["test-admin"]
    role = await client.post(
        f"/v1/roles/{quote(name)}", json={"resourceToAccess": {"Image": "READ_ACCESS"}}
    )
    assert role.status == 400
    assert len((await (await client.get("/v1/roles")).json())["roles"]) == 4


async def test_a_token_for_a_role_spelt_in_another_case_is_refused(client: Any) -> None:
    for role in ("admin", "ADMIN", " Admin", "analyst"):
        response = await client.post("/v1/apitokens/generate", json={"name": "x", "roles": [role]})
        if role.strip() == ADMIN:
            assert response.status == 200  # surrounding spaces are trimmed
        else:
            assert response.status == 400, role
            assert "unknown role" in (await response.json())["message"]


async def raw_get(server: Any, path: str, authorization: bytes) -> bytes:
    """The answer to a GET whose Authorization header carries these exact bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: " + authorization + b"\r\n\r\n"
    )
    answer = await reader.read()
    writer.close()
    return answer


@pytest.mark.parametrize("path", ["/v1/imagescount", "/metrics"])
async def test_a_token_that_is_not_utf8_is_401_not_500(
    aiohttp_client: Any, settings: Settings, db: Any, path: str
) -> None:
    app = create_app(replace(settings, metrics_token="scrape-secret"), db=db)
    server = (await aiohttp_client(app)).server
    for token in (b"isvc_\xff\xfeabc", b"\xc3(", "isvc_\u00e9".encode()):
        answer = await raw_get(server, path, b"Bearer " + token)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.split()[1] == b"401", (path, token)
        assert b'"code":16' in rest
