"""RegistryClient behaviour a real registry cannot be made to show, against in-process fakes:
429/503 answers and Retry-After, dropped connections, slow answers, a blob redirected to
another host, the per-registry concurrency limit, token expiry."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from app.scanner.errors import RegistryTimeout, RegistryUnavailable
from app.scanner.reference import ImageReference, parse_reference
from app.scanner.registry import Credentials, CredentialStore, RegistryClient, RegistrySettings

Server = Callable[[web.Application], Awaitable[Any]]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BLOB_BYTES = 200 * 1024


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class FakeRegistry:
    """Serves one OCI image under any name; `hiccups` are answers given before the real ones."""

    layer: bytes = field(default_factory=lambda: bytes(range(256)) * (BLOB_BYTES // 256))
    config: bytes = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}'
    hiccups: list[Callable[[web.Request], Awaitable[web.StreamResponse]]] = field(
        default_factory=list
    )
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    blob_redirect: str | None = None  # base URL the layer blob is redirected to
    require_auth: str | None = None  # an Authorization value, challenged with Basic
    bearer: bool = False  # challenge with Bearer (realm /token) and accept any token
    token_expires_in: int = 300
    manifest_delay_s: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def manifest(self) -> bytes:
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(self.config),
                "size": len(self.config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": _digest(self.layer),
                    "size": len(self.layer),
                }
            ],
        }
        return json.dumps(document).encode()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/v2/{name:.+}/manifests/{reference}", self._manifest)
        app.router.add_get("/v2/{name:.+}/blobs/{digest}", self._blob)
        app.router.add_get("/token", self._token)
        return app

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for m, path, _ in self.requests if m == method and path_part in path)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path, request.headers.get("Authorization")))
        if request.path == "/token":
            return await handler(request)
        authorization = request.headers.get("Authorization", "")
        if self.require_auth and authorization != self.require_auth:
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="fake"'})
        if self.bearer and not authorization.startswith("Bearer "):
            realm = f"http://{request.host}/token"
            challenge = f'Bearer realm="{realm}",service="fake",scope="x"'
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": challenge})
        if self.hiccups:
            return await self.hiccups.pop(0)(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _manifest(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.manifest_delay_s)
        body = self.manifest
        headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": _digest(body)}
        if request.method == "HEAD":
            return web.Response(headers=headers | {"Content-Length": str(len(body))})
        return web.Response(body=body, headers=headers)

    async def _blob(self, request: web.Request) -> web.Response:
        digest = request.match_info["digest"]
        if digest == _digest(self.config):
            return web.Response(body=self.config)
        if digest == _digest(self.layer):
            if self.blob_redirect is not None:
                raise web.HTTPTemporaryRedirect(f"{self.blob_redirect}/storage/{digest}?sig=x")
            return web.Response(body=self.layer)
        raise web.HTTPNotFound()

    async def _token(self, request: web.Request) -> web.Response:
        token = f"token-{len(self.requests)}"
        return web.json_response({"token": token, "expires_in": self.token_expires_in})


@dataclass
class FakeStorage:
    """Blob storage on another host, as registries redirect to; records the headers it got."""

    blob: bytes
    authorizations: list[str | None] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/storage/{digest}", self._get)
        return app

    async def _get(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        return web.Response(body=self.blob)


async def _start(aiohttp_server: Server, fake: FakeRegistry) -> ImageReference:
    server = await aiohttp_server(fake.app())
    return parse_reference(f"127.0.0.1:{server.port}/fake/image:v1")


def _settings(ref: ImageReference, **changes: Any) -> RegistrySettings:
    changes.setdefault("backoff_base_s", 0.01)
    return RegistrySettings(insecure_registries=frozenset({ref.registry}), **changes)


def _status(status: int, **headers: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, headers=headers)

    return answer


async def _drop_connection(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.close()
    return web.Response()


async def test_429_with_retry_after_is_waited_out(aiohttp_server: Server) -> None:
    fake = FakeRegistry(hiccups=[_status(429, **{"Retry-After": "1"})])
    ref = await _start(aiohttp_server, fake)
    started = time.monotonic()
    async with RegistryClient(_settings(ref)) as client:
        resolved = await client.resolve(ref)
    assert time.monotonic() - started >= 0.9
    assert resolved.manifest_digest == _digest(fake.manifest)
    assert fake.count("GET", "/manifests/") == 2


async def test_503_until_the_retries_run_out(aiohttp_server: Server) -> None:
    fake = FakeRegistry(hiccups=[_status(503) for _ in range(10)])
    ref = await _start(aiohttp_server, fake)
    async with RegistryClient(_settings(ref, max_retries=2)) as client:
        with pytest.raises(RegistryUnavailable) as caught:
            await client.resolve(ref)
    assert caught.value.message == (
        f"registry {ref.registry} is unreachable: HTTP 503 Service Unavailable"
    )
    assert caught.value.registry == ref.registry
    assert caught.value.retry_after is None
    assert fake.count("GET", "/manifests/") == 3


async def test_retry_after_beyond_the_cap_gives_up_at_once(aiohttp_server: Server) -> None:
    fake = FakeRegistry(hiccups=[_status(429, **{"Retry-After": "120"}) for _ in range(3)])
    ref = await _start(aiohttp_server, fake)
    started = time.monotonic()
    async with RegistryClient(_settings(ref, max_retry_after_s=30)) as client:
        with pytest.raises(RegistryUnavailable) as caught:
            await client.resolve(ref)
    assert time.monotonic() - started < 5
    assert caught.value.retry_after == 120
    assert fake.count("GET", "/manifests/") == 1


async def test_dropped_connections_are_retried(aiohttp_server: Server) -> None:
    fake = FakeRegistry(hiccups=[_drop_connection, _status(502)])
    ref = await _start(aiohttp_server, fake)
    async with RegistryClient(_settings(ref)) as client:
        resolved = await client.resolve(ref)
    assert resolved.manifest_digest == _digest(fake.manifest)
    assert fake.count("GET", "/manifests/") == 3


async def test_slow_answer_times_out(aiohttp_server: Server) -> None:
    fake = FakeRegistry(manifest_delay_s=3)
    ref = await _start(aiohttp_server, fake)
    started = time.monotonic()
    async with RegistryClient(_settings(ref, request_timeout_s=0.3)) as client:
        with pytest.raises(RegistryTimeout) as caught:
            await client.head_digest(ref)
    assert time.monotonic() - started < 2
    assert caught.value.message == f"registry {ref.registry} did not answer within 0.3s"
    assert caught.value.registry == ref.registry


async def test_stalled_blob_times_out_between_chunks(aiohttp_server: Server) -> None:
    fake = FakeRegistry()

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(len(fake.layer))})
        await response.prepare(request)
        await response.write(fake.layer[:1000])
        await asyncio.sleep(3)
        return response

    ref = await _start(aiohttp_server, fake)
    async with RegistryClient(_settings(ref, request_timeout_s=0.5)) as client:
        resolved = await client.resolve(ref)
        fake.hiccups.append(stall)
        received: list[bytes] = []
        with pytest.raises(RegistryTimeout):
            await _collect(client.open_blob(ref, resolved.layers[0]), received)
    assert sum(len(chunk) for chunk in received) == 1000


async def _collect(chunks: Any, into: list[bytes]) -> None:
    async for chunk in chunks:
        into.append(chunk)


async def test_blob_redirect_to_storage_drops_the_authorization(aiohttp_server: Server) -> None:
    fake = FakeRegistry(require_auth=_basic("u", "secret"))
    storage = FakeStorage(fake.layer)
    storage_server = await aiohttp_server(storage.app())
    fake.blob_redirect = f"http://127.0.0.1:{storage_server.port}"
    ref = await _start(aiohttp_server, fake)
    credentials = CredentialStore({ref.registry: Credentials("u", "secret")}, source="config.json")
    storage_host = frozenset({f"127.0.0.1:{storage_server.port}"})  # loopback: allowed by name
    settings = _settings(ref, allowlist=storage_host)
    async with RegistryClient(settings, credentials=credentials) as client:
        resolved = await client.resolve(ref)
        chunks = [chunk async for chunk in client.open_blob(ref, resolved.layers[0])]
    assert b"".join(chunks) == fake.layer
    assert storage.authorizations == [None]
    blob_requests = [auth for _, path, auth in fake.requests if path.endswith(_digest(fake.layer))]
    assert blob_requests == [_basic("u", "secret")]
    assert resolved.data_source == f"config.json credentials for {ref.registry}"


async def test_requests_per_registry_are_limited(aiohttp_server: Server) -> None:
    fake = FakeRegistry(manifest_delay_s=0.1)
    ref = await _start(aiohttp_server, fake)
    async with RegistryClient(_settings(ref, per_registry_concurrency=2)) as client:
        digests = await asyncio.gather(*(client.head_digest(ref) for _ in range(6)))
    assert set(digests) == {_digest(fake.manifest)}
    assert fake.max_in_flight == 2


async def test_bearer_tokens_are_cached_until_they_expire(aiohttp_server: Server) -> None:
    # expires_in 2 s: used for 1 s (the safety margin takes at most half)
    fake = FakeRegistry(bearer=True, token_expires_in=2)
    ref = await _start(aiohttp_server, fake)
    async with RegistryClient(_settings(ref)) as client:
        await client.head_digest(ref)
        await client.head_digest(ref)
        assert fake.count("GET", "/token") == 1
        await asyncio.sleep(1.1)
        await client.head_digest(ref)
    assert fake.count("GET", "/token") == 2
    # after the first challenge, every request carried a token
    manifests = [auth for method, path, auth in fake.requests if "/manifests/" in path]
    assert manifests[0] is None
    assert all(auth and auth.startswith("Bearer token-") for auth in manifests[1:])
