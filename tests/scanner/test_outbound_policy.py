"""Where scanning may connect: internal addresses refused unless allowed, before connecting;
redirects and token realms checked too; credentials only where they belong."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.api.test_images import assert_error
from tests.scanner.scan_support import scan_settings, unique_repo
from tests.support.oci.samples import push_alpine
from tests.support.registry import LOOPBACK, RunningRegistry, free_port
from tests.support.registry_proxy import counting_proxy

REASON = (
    "it resolves to a loopback, private or link-local address "
    "(allow it with IMAGE_SERVICE_REGISTRY_ALLOWLIST)"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _app(app_client: Any, nx_db: Any, *insecure: str, **overrides: Any) -> Any:
    """The app with an Admin token; only `insecure` (and `allowlist=`) registries allowed."""
    return await app_client(scan_settings(*insecure, **overrides), nx_db)


async def _scan(client: Any, name: str) -> Any:
    return await client.post("/v1/images/scan", json={"imageName": name})


async def _assert_refused(response: Any, message: str) -> None:
    body = await response.json()
    assert response.status == 400, body
    assert_error(body, 3, message)
    assert body["message"] == message


def _refused(registry: str) -> str:
    return f'registry "{registry}" is not allowed: {REASON}'


async def _serve(aiohttp_server: Any, handler: Handler) -> str:
    """An aiohttp app on loopback answering every request with `handler`; its host:port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await aiohttp_server(app, host=LOOPBACK)
    return f"{LOOPBACK}:{server.port}"


class _Listener:
    """A loopback TCP listener that counts connections and never answers."""

    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.read()
        writer.close()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, LOOPBACK, 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()


@pytest.fixture
async def listener() -> AsyncIterator[tuple[_Listener, int]]:
    listening = _Listener()
    port = await listening.start()
    yield listening, port
    await listening.stop()


# ------------------------------------------------------------------ the registry's own address


async def test_a_loopback_registry_that_is_not_allowed_gets_no_connection(
    nx_db: Any, app_client: Any, registry: RunningRegistry
) -> None:
    pushed = push_alpine(registry, unique_repo(), "1")
    async with counting_proxy(registry.host) as proxy:
        name = f"{proxy.host}/{pushed.repo}:1"
        refusing = await _app(app_client, nx_db)
        await _assert_refused(await _scan(refusing, name), _refused(proxy.host))
        assert proxy.connections == 0

        # the same registry listed as insecure: scanned, through the proxy
        allowed = await _app(app_client, nx_db, proxy.host)
        response = await _scan(allowed, name)
        assert response.status == 200, await response.text()
        assert (await response.json())["id"] == pushed.digest
        assert proxy.connections > 0


async def test_open_closed_silent_and_tls_failing_ports_give_one_answer(
    nx_db: Any,
    app_client: Any,
    registry: RunningRegistry,
    listener: tuple[_Listener, int],
) -> None:
    silent, silent_port = listener
    destinations = [
        registry.host,  # listening plain HTTP: HTTPS to it would fail the TLS handshake
        f"{LOOPBACK}:{free_port()}",  # nothing listens: the connection would be refused
        f"{LOOPBACK}:{silent_port}",  # accepts and never answers: it would time out
    ]
    client = await _app(app_client, nx_db)
    started = time.monotonic()
    answers = set()
    for host in destinations:
        response = await _scan(client, f"{host}/team/app:1")
        body = await response.json()
        answers.add((response.status, body["code"], body["message"].replace(host, "HOST")))
    assert answers == {(400, 3, _refused("HOST"))}
    assert silent.connections == 0
    assert time.monotonic() - started < 3  # no connect or request timeout was waited out


@pytest.mark.parametrize(
    "registry_name",
    [
        "localhost",
        "localhost:{port}",
        "{loopback}:{port}",
        "[::1]",
        "[::1]:{port}",
        "169.254.169.254",
        "0.0.0.0:1",
        "127.1:{port}",
        "[::ffff:7f00:1]:{port}",
    ],
)
async def test_internal_names_and_addresses_are_refused_without_connecting(
    nx_db: Any, app_client: Any, listener: tuple[_Listener, int], registry_name: str
) -> None:
    silent, port = listener
    host = registry_name.format(port=port, loopback=LOOPBACK)
    client = await _app(app_client, nx_db)
    started = time.monotonic()
    await _assert_refused(await _scan(client, f"{host}/x:y"), _refused(host))
    assert time.monotonic() - started < 2
    assert silent.connections == 0


async def test_watching_an_internal_registry_fails_without_connecting(
    nx_db: Any, app_client: Any, listener: tuple[_Listener, int]
) -> None:
    silent, port = listener
    host = f"localhost:{port}"
    client = await _app(app_client, nx_db)
    response = await client.post("/v1/watchedimages", json={"name": f"{host}/x:y"})
    body = await response.json()
    assert body["errorMessage"] == f"failed to scan image: {_refused(host)}", body
    assert silent.connections == 0


# ----------------------------------------------------------------------------------- redirects


async def _redirecting_registry(aiohttp_server: Any, location: str) -> str:
    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(location)

    return await _serve(aiohttp_server, redirect)


@pytest.mark.parametrize("target_name", [LOOPBACK, "localhost"])
async def test_a_redirect_to_an_internal_address_is_refused(
    nx_db: Any, app_client: Any, aiohttp_server: Any, target_name: str
) -> None:
    seen: list[str] = []

    async def metadata(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        return web.Response(text="secret")

    target_port = (await _serve(aiohttp_server, metadata)).rpartition(":")[2]
    target = f"{target_name}:{target_port}"
    registry_host = await _redirecting_registry(
        aiohttp_server, f"http://{target}/latest/meta-data/"
    )
    client = await _app(app_client, nx_db, registry_host)  # the registry itself is allowed
    response = await _scan(client, f"{registry_host}/x:y")
    await _assert_refused(
        response,
        f'registry "{registry_host}" sent the request on to "{target}", which is not allowed: '
        f"{REASON}",
    )
    assert seen == []


async def test_a_redirect_into_an_allowed_network_is_followed(
    nx_db: Any, app_client: Any, aiohttp_server: Any
) -> None:
    seen: list[str] = []

    async def storage(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        return web.Response(status=404)

    target = await _serve(aiohttp_server, storage)
    registry_host = await _redirecting_registry(aiohttp_server, f"http://{target}/storage/x")
    client = await _app(app_client, nx_db, registry_host, allowlist={"127.0.0.0/8"})
    response = await _scan(client, f"{registry_host}/x:y")
    assert response.status == 404, await response.text()
    assert seen == ["/storage/x"]


# -------------------------------------------------------------------------------- token realms


async def _challenging_registry(aiohttp_server: Any, realm: str) -> str:
    """A registry answering every request with a Bearer challenge naming `realm`."""

    async def challenge(request: web.Request) -> web.StreamResponse:
        header = f'Bearer realm="{realm}",service="fake"'
        return web.Response(status=401, headers={"WWW-Authenticate": header})

    return await _serve(aiohttp_server, challenge)


def _docker_config(directory: Path, registry_host: str, entry: dict[str, str]) -> str:
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {registry_host: entry}}))
    return str(path)


BASIC = {"auth": base64.b64encode(b"u:secret").decode()}
IDENTITY = {"username": "u", "identitytoken": "refresh-secret"}


@pytest.mark.parametrize(
    ("entry", "listed_realm_sees"),
    [
        (BASIC, ("GET", "Basic " + BASIC["auth"], "")),
        (IDENTITY, ("POST", None, "refresh-secret")),
    ],
)
async def test_a_plain_http_realm_gets_credentials_only_when_listed(
    nx_db: Any,
    app_client: Any,
    aiohttp_server: Any,
    tmp_path: Path,
    entry: dict[str, str],
    listed_realm_sees: tuple[str, str | None, str],
) -> None:
    seen: list[tuple[str, str | None, str]] = []

    async def token(request: web.Request) -> web.StreamResponse:
        body = await request.text()
        secret = "refresh-secret" if "refresh-secret" in body else ""
        seen.append((request.method, request.headers.get("Authorization"), secret))
        return web.json_response({"token": "t"})

    realm_host = await _serve(aiohttp_server, token)

    registry_host = await _challenging_registry(aiohttp_server, f"http://{realm_host}/token")
    auth_file = _docker_config(tmp_path, registry_host, entry)
    name = f"{registry_host}/x:y"

    # the realm's address is allowed (a network), but its host is not listed by name
    unlisted = await _app(
        app_client, nx_db, registry_host, allowlist={"127.0.0.0/8"}, auth_file=auth_file
    )
    assert (await _scan(unlisted, name)).status == 403
    assert seen == [("GET", None, "")]

    listed = await _app(
        app_client, nx_db, registry_host, allowlist={realm_host}, auth_file=auth_file
    )
    assert (await _scan(listed, name)).status == 403
    assert seen[1:] == [listed_realm_sees]


async def test_a_realm_on_an_internal_address_is_refused(
    nx_db: Any, app_client: Any, aiohttp_server: Any, listener: tuple[_Listener, int]
) -> None:
    silent, port = listener

    registry_host = await _challenging_registry(aiohttp_server, f"http://{LOOPBACK}:{port}/token")
    client = await _app(app_client, nx_db, registry_host)
    await _assert_refused(
        await _scan(client, f"{registry_host}/x:y"),
        f'registry "{registry_host}" sent the request on to "{LOOPBACK}:{port}", '
        f"which is not allowed: {REASON}",
    )
    assert silent.connections == 0


async def test_a_token_request_is_not_redirected_to_another_host(
    nx_db: Any, app_client: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    seen: list[str] = []

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        seen.append(await request.text())
        return web.json_response({"token": "t"})

    other_host = await _serve(aiohttp_server, elsewhere)

    async def token(request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect(f"http://{other_host}/token")  # 307 keeps the form

    realm_host = await _serve(aiohttp_server, token)

    registry_host = await _challenging_registry(aiohttp_server, f"http://{realm_host}/token")
    auth_file = _docker_config(tmp_path, registry_host, IDENTITY)
    client = await _app(
        app_client,
        nx_db,
        registry_host,
        allowlist={realm_host, other_host},
        auth_file=auth_file,
    )
    response = await _scan(client, f"{registry_host}/x:y")
    assert response.status == 503
    assert_error(await response.json(), 14, "redirected a token request to another host")
    assert seen == []
