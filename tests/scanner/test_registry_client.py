"""RegistryClient against real docker-registry processes: plain, Basic auth, token auth, TLS."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.scanner.errors import (
    DigestMismatch,
    LayerLimitExceeded,
    ManifestUnknown,
    RegistryDenied,
    RegistryUnavailable,
    UnsupportedManifest,
)
from app.scanner.model import Descriptor
from app.scanner.reference import ImageReference, parse_reference
from app.scanner.registry import RegistryClient, RegistrySettings, registry_settings_from_env
from tests.support import certificates, oci
from tests.support.registry import LOOPBACK, RunningRegistry, free_port, stop_registry
from tests.support.registry_variants import ServerTls, TokenAuth, start_registry_variant
from tests.support.token_server import ISSUER, SERVICE, TokenServer, run_token_server

TOKEN_USER = "reader"
REFRESH_TOKEN = "refresh-" + secrets.token_hex(8)


def _settings(
    *registries: RunningRegistry, allow: tuple[str, ...] = (), **changes: object
) -> RegistrySettings:
    """Plain-HTTP registries listed insecure, HTTPS ones and `allow` (a token service's
    host) in the allow-list: every one of them is on loopback."""
    insecure = frozenset(r.host for r in registries if r.url.startswith("http://"))
    secure = frozenset(r.host for r in registries if not r.url.startswith("http://"))
    return RegistrySettings(
        insecure_registries=insecure,
        allowlist=secure | frozenset(allow),
        **changes,  # type: ignore[arg-type]
    )


def _layer(repo: str, payload: bytes = b"") -> oci.Blob:
    # the repository name in the content keeps each test's blobs its own (corrupt_blob)
    return (
        oci.LayerBuilder()
        .add_file("etc/os-release", b'ID=debian\nVERSION_ID="12"\n')
        .add_file("etc/origin", repo.encode() + payload)
        .build()
    )


def _push(
    registry: RunningRegistry,
    repo: str,
    tag: str = "v1",
    *,
    kind: oci.Kind = "oci",
    architecture: str = "amd64",
    variant: str | None = None,
) -> oci.PushedImage:
    layer = _layer(f"{repo}:{tag}:{architecture}")
    config = oci.image_config([layer], architecture=architecture, variant=variant)
    return oci.push_image(registry, repo, tag, [layer], config, kind=kind)


def _ref(registry: RunningRegistry, name: str) -> ImageReference:
    return parse_reference(f"{registry.host}/{name}")


def _write_docker_config(directory: Path, host: str, entry: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {host: entry}}))
    return path


def _auth_entry(username: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}


async def _drain(chunks: AsyncIterator[bytes], sizes: list[int] | None = None) -> None:
    async for chunk in chunks:
        if sizes is not None:
            sizes.append(len(chunk))


@pytest.fixture
async def registry_client(registry: RunningRegistry) -> AsyncIterator[RegistryClient]:
    async with RegistryClient(_settings(registry)) as client:
        yield client


# ----------------------------------------------------------------------------- manifests


@pytest.mark.parametrize("kind", ["oci", "docker"])
async def test_resolve_single_manifest(
    registry: RunningRegistry, registry_client: RegistryClient, kind: oci.Kind
) -> None:
    pushed = _push(registry, f"client/single-{kind}", kind=kind)
    resolved = await registry_client.resolve(_ref(registry, f"client/single-{kind}:v1"))
    manifest = json.loads(pushed.manifest)
    assert resolved.top_digest == resolved.manifest_digest == pushed.digest
    assert resolved.manifest_media_type == pushed.media_type
    assert resolved.config == Descriptor(
        manifest["config"]["mediaType"], pushed.config_digest, manifest["config"]["size"]
    )
    assert [layer.digest for layer in resolved.layers] == list(pushed.layer_digests)
    assert [layer.media_type for layer in resolved.layers] == [
        layer["mediaType"] for layer in manifest["layers"]
    ]
    assert resolved.config_json["architecture"] == "amd64"
    assert resolved.config_json["rootfs"]["type"] == "layers"
    assert resolved.data_source == "anonymous"


@pytest.mark.parametrize("kind", ["oci", "docker"])
async def test_index_platform_choice(registry: RunningRegistry, kind: oci.Kind) -> None:
    repo = f"client/multi-{kind}"
    amd = _push(registry, repo, "amd", kind=kind)
    arm = _push(registry, repo, "arm", kind=kind, architecture="arm64", variant="v8")
    index = oci.push_index(
        registry, repo, "v1", [(arm, "linux/arm64/v8"), (amd, "linux/amd64")], kind=kind
    )
    ref = _ref(registry, f"{repo}:v1")

    async with RegistryClient(_settings(registry)) as client:
        default = await client.resolve(ref)
    assert (default.top_digest, default.manifest_digest) == (index, amd.digest)
    assert default.config_json["architecture"] == "amd64"

    # "linux/arm64" means "linux/arm64/v8"
    async with RegistryClient(_settings(registry, platform="linux/arm64")) as client:
        chosen = await client.resolve(ref)
    assert (chosen.top_digest, chosen.manifest_digest) == (index, arm.digest)
    assert chosen.config_json["architecture"] == "arm64"

    async with RegistryClient(_settings(registry, platform="linux/s390x")) as client:
        with pytest.raises(ManifestUnknown) as caught:
            await client.resolve(ref)
    assert caught.value.message == (
        f"no manifest for platform linux/s390x in {registry.host}/{repo}:v1; "
        "available: linux/amd64, linux/arm64/v8"
    )
    assert caught.value.registry == registry.host


async def test_resolve_by_digest(
    registry: RunningRegistry, registry_client: RegistryClient
) -> None:
    image = _push(registry, "client/by-digest")
    resolved = await registry_client.resolve(_ref(registry, f"client/by-digest@{image.digest}"))
    assert resolved.top_digest == resolved.manifest_digest == image.digest

    index = oci.push_index(registry, "client/by-digest", "multi", [(image, "linux/amd64")])
    resolved = await registry_client.resolve(_ref(registry, f"client/by-digest@{index}"))
    assert (resolved.top_digest, resolved.manifest_digest) == (index, image.digest)


async def test_schema1_is_refused(
    registry: RunningRegistry, registry_client: RegistryClient
) -> None:
    oci.push_schema1(registry, "client/schema1", "old")
    with pytest.raises(UnsupportedManifest) as caught:
        await registry_client.resolve(_ref(registry, "client/schema1:old"))
    assert caught.value.message == (
        f"{registry.host}/client/schema1:old uses Docker schema 1 manifests, which are not "
        "supported; push it again with a current client"
    )


@pytest.mark.parametrize("name", ["client/unknown-repo:v1", "client/known-repo:no-such-tag"])
async def test_unknown_repository_or_tag(
    registry: RunningRegistry, registry_client: RegistryClient, name: str
) -> None:
    _push(registry, "client/known-repo")
    with pytest.raises(ManifestUnknown) as caught:
        await registry_client.resolve(_ref(registry, name))
    assert caught.value.registry == registry.host
    assert f"{registry.host}/{name}" in caught.value.message
    assert f"not found in registry {registry.host}" in caught.value.message


async def test_head_digest_follows_a_moved_tag(
    registry: RunningRegistry, registry_client: RegistryClient
) -> None:
    first = _push(registry, "client/moving", "latest")
    second = _push(registry, "client/moving", "next")
    ref = _ref(registry, "client/moving:latest")
    assert await registry_client.head_digest(ref) == first.digest
    oci.push_tag(registry, "client/moving", "latest", second.manifest, second.media_type)
    assert await registry_client.head_digest(ref) == second.digest
    with pytest.raises(ManifestUnknown):
        await registry_client.head_digest(_ref(registry, "client/moving:gone"))


# ---------------------------------------------------------------------------------- blobs


async def test_open_blob_streams_verified_chunks(
    registry: RunningRegistry, registry_client: RegistryClient
) -> None:
    noise = os.urandom(300 * 1024)  # incompressible: a blob of several chunks
    layer = oci.LayerBuilder().add_file("data.bin", noise).build("none")
    config = oci.image_config([layer])
    oci.push_image(registry, "client/blob", "v1", [layer], config)
    ref = _ref(registry, "client/blob:v1")
    resolved = await registry_client.resolve(ref)

    chunks = [chunk async for chunk in registry_client.open_blob(ref, resolved.layers[0])]
    assert b"".join(chunks) == layer.data
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= 64 * 1024

    # stopping early releases the stream; the client still works afterwards
    async with registry_client.open_blob(ref, resolved.layers[0]) as stream:
        async for _ in stream:
            break
    assert (await registry_client.resolve(ref)).top_digest == resolved.top_digest

    with pytest.raises(LayerLimitExceeded):
        await _drain(registry_client.open_blob(ref, resolved.layers[0], max_bytes=100_000))


async def test_corrupt_blobs_fail_their_digest_check(
    registry: RunningRegistry, registry_client: RegistryClient
) -> None:
    pushed = _push(registry, "client/corrupt")
    ref = _ref(registry, "client/corrupt:v1")
    resolved = await registry_client.resolve(ref)
    layer = resolved.layers[0]

    oci.corrupt_blob(registry, layer.digest)
    sizes: list[int] = []
    with pytest.raises(DigestMismatch) as caught:
        await _drain(registry_client.open_blob(ref, layer), sizes)
    assert sum(sizes) == layer.size  # every byte came, and the check failed at the end
    assert caught.value.message == (
        f"blob {layer.digest} from registry {registry.host} does not match its digest"
    )

    oci.corrupt_blob(registry, pushed.config_digest)
    with pytest.raises(DigestMismatch):
        await registry_client.resolve(ref)


async def test_unreachable_registry_fails_fast() -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = RegistrySettings(
        insecure_registries=frozenset({host}), max_retries=1, backoff_base_s=0.01
    )
    started = time.monotonic()
    async with RegistryClient(settings) as client:
        with pytest.raises(RegistryUnavailable) as caught:
            await client.resolve(parse_reference(f"{host}/any/image:v1"))
    assert time.monotonic() - started < 3
    assert caught.value.registry == host
    assert caught.value.message.startswith(f"registry {host} is unreachable: ")


# ------------------------------------------------------------------------------ Basic auth


@pytest.mark.parametrize("form", ["auth", "username_password"])
async def test_basic_auth_with_registry_auth_file(
    auth_registry: RunningRegistry, tmp_path: Path, form: str
) -> None:
    assert auth_registry.username is not None
    assert auth_registry.password is not None
    repo = f"client/basic-{form.replace('_', '-')}"
    pushed = _push(auth_registry, repo)
    if form == "auth":
        entry = _auth_entry(auth_registry.username, auth_registry.password)
    else:
        entry = {"username": auth_registry.username, "password": auth_registry.password}
    auth_file = _write_docker_config(tmp_path, f"http://{auth_registry.host}/v2/", entry)
    settings = registry_settings_from_env(
        {
            "HOME": str(tmp_path / "home"),
            "REGISTRY_AUTH_FILE": str(auth_file),
            "IMAGE_SERVICE_INSECURE_REGISTRIES": auth_registry.host,
        }
    )
    async with RegistryClient(settings) as client:
        resolved = await client.resolve(_ref(auth_registry, f"{repo}:v1"))
        chunks = [c async for c in client.open_blob(resolved.reference, resolved.layers[0])]
    assert resolved.top_digest == pushed.digest
    assert resolved.data_source == f"config.json credentials for {auth_registry.host}"
    assert len(b"".join(chunks)) == resolved.layers[0].size


async def test_basic_auth_with_docker_config_directory(
    auth_registry: RunningRegistry, tmp_path: Path
) -> None:
    assert auth_registry.username is not None
    assert auth_registry.password is not None
    _push(auth_registry, "client/basic-docker-config")
    entry = _auth_entry(auth_registry.username, auth_registry.password)
    _write_docker_config(tmp_path / "docker", auth_registry.host, entry)
    settings = registry_settings_from_env(
        {
            "HOME": str(tmp_path / "home"),
            "DOCKER_CONFIG": str(tmp_path / "docker"),
            "IMAGE_SERVICE_INSECURE_REGISTRIES": auth_registry.host,
        }
    )
    assert settings.auth_file == str(tmp_path / "docker" / "config.json")
    async with RegistryClient(settings) as client:
        digest = await client.head_digest(_ref(auth_registry, "client/basic-docker-config:v1"))
    assert digest.startswith("sha256:")


async def test_basic_auth_refusals(auth_registry: RunningRegistry, tmp_path: Path) -> None:
    _push(auth_registry, "client/basic-refused")
    ref = _ref(auth_registry, "client/basic-refused:v1")
    host = auth_registry.host

    async with RegistryClient(_settings(auth_registry)) as client:
        with pytest.raises(RegistryDenied) as anonymous:
            await client.resolve(ref)
    assert anonymous.value.registry == host
    assert anonymous.value.message.startswith(f"registry {host} requires credentials")

    wrong = _auth_entry(auth_registry.username or "", "not-the-password")
    auth_file = _write_docker_config(tmp_path, host, wrong)
    async with RegistryClient(_settings(auth_registry, auth_file=str(auth_file))) as client:
        with pytest.raises(RegistryDenied) as refused:
            await client.resolve(ref)
    assert refused.value.registry == host
    assert refused.value.message.startswith(f"registry {host} refused the credentials")
    assert "not-the-password" not in refused.value.message


# ------------------------------------------------------------------------- token auth, TLS


def _realm(token_service: TokenServer) -> tuple[str]:
    """The token service's host[:port], to allow (it is on loopback, and plain HTTP)."""
    return (f"{LOOPBACK}:{token_service.port}",)


@dataclass(frozen=True)
class Pki:
    ca: certificates.KeyPair
    ca_file: Path
    server_cert: Path
    server_key: Path
    signer: certificates.KeyPair
    signer_file: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = certificates.certificate_authority()
    ca_file, _ = ca.write(directory, "ca")
    server_cert, server_key = certificates.server_certificate(ca).write(directory, "server")
    signer = certificates.certificate_authority("scanner tests token signer")
    signer_file, _ = signer.write(directory, "token-signer")
    return Pki(ca, ca_file, server_cert, server_key, signer, signer_file)


@pytest.fixture(scope="module")
def token_password() -> str:
    return secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def token_service(pki: Pki, token_password: str) -> Iterator[TokenServer]:
    with run_token_server(
        pki.signer, users={TOKEN_USER: token_password}, refresh_tokens={REFRESH_TOKEN: TOKEN_USER}
    ) as server:
        yield server


@pytest.fixture(scope="module")
def token_registry(
    registry: RunningRegistry,
    token_service: TokenServer,
    pki: Pki,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningRegistry]:
    """Serves the plain `registry`'s storage, read-only, behind Bearer token auth."""
    auth = TokenAuth(token_service.realm, SERVICE, ISSUER, pki.signer_file)
    running, process = start_registry_variant(
        tmp_path_factory.mktemp("token-registry"), registry.root, token=auth
    )
    yield running
    stop_registry(process)


@pytest.fixture(scope="module")
def tls_registry(
    registry: RunningRegistry, pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningRegistry]:
    """Serves the plain `registry`'s storage, read-only, over HTTPS (certificate from `pki.ca`)."""
    tls = ServerTls(pki.server_cert, pki.server_key, pki.ca_file)
    running, process = start_registry_variant(
        tmp_path_factory.mktemp("tls-registry"), registry.root, tls=tls
    )
    yield running
    stop_registry(process)


async def test_token_auth_anonymous_pull_reuses_the_token(
    registry: RunningRegistry, token_registry: RunningRegistry, token_service: TokenServer
) -> None:
    pushed = _push(registry, "public/token-anonymous")
    ref = _ref(token_registry, "public/token-anonymous:v1")
    scope = "repository:public/token-anonymous:pull"
    async with RegistryClient(_settings(token_registry, allow=_realm(token_service))) as client:
        first = await client.resolve(ref)
        second = await client.resolve(ref)
        chunks = [c async for c in client.open_blob(ref, first.layers[0])]
    assert first.top_digest == second.top_digest == pushed.digest
    assert first.data_source == "anonymous"
    assert len(b"".join(chunks)) == first.layers[0].size
    asked = [r for r in token_service.requests if r.scope == scope]
    assert [(r.method, r.user, r.grant) for r in asked] == [("GET", None, "anonymous")]


async def test_token_auth_with_credentials(
    registry: RunningRegistry,
    token_registry: RunningRegistry,
    token_service: TokenServer,
    token_password: str,
    tmp_path: Path,
) -> None:
    pushed = _push(registry, "private/token-basic")
    auth_file = _write_docker_config(
        tmp_path, token_registry.host, _auth_entry(TOKEN_USER, token_password)
    )
    settings = _settings(token_registry, allow=_realm(token_service), auth_file=str(auth_file))
    async with RegistryClient(settings) as client:
        resolved = await client.resolve(_ref(token_registry, "private/token-basic:v1"))
    assert resolved.top_digest == pushed.digest
    assert resolved.data_source == f"config.json credentials for {token_registry.host}"
    asked = [r for r in token_service.requests if r.scope == "repository:private/token-basic:pull"]
    assert [(r.method, r.user) for r in asked] == [("GET", TOKEN_USER)]


async def test_token_auth_with_identity_token(
    registry: RunningRegistry,
    token_registry: RunningRegistry,
    token_service: TokenServer,
    tmp_path: Path,
) -> None:
    pushed = _push(registry, "private/token-refresh")
    auth_file = _write_docker_config(
        tmp_path, token_registry.host, {"username": TOKEN_USER, "identitytoken": REFRESH_TOKEN}
    )
    settings = _settings(token_registry, allow=_realm(token_service), auth_file=str(auth_file))
    async with RegistryClient(settings) as client:
        resolved = await client.resolve(_ref(token_registry, "private/token-refresh:v1"))
    assert resolved.top_digest == pushed.digest
    assert resolved.data_source == f"config.json credentials for {token_registry.host}"
    asked = [
        r for r in token_service.requests if r.scope == "repository:private/token-refresh:pull"
    ]
    assert [(r.method, r.grant) for r in asked] == [("POST", "refresh_token")]


async def test_token_auth_refusals(
    registry: RunningRegistry,
    token_registry: RunningRegistry,
    token_service: TokenServer,
    tmp_path: Path,
) -> None:
    _push(registry, "private/token-refused")
    ref = _ref(token_registry, "private/token-refused:v1")
    host = token_registry.host
    realm = _realm(token_service)

    async with RegistryClient(_settings(token_registry, allow=realm)) as client:
        with pytest.raises(RegistryDenied) as anonymous:
            await client.resolve(ref)
    assert anonymous.value.message.startswith(f"registry {host} requires credentials")

    auth_file = _write_docker_config(tmp_path, host, _auth_entry(TOKEN_USER, "wrong"))
    settings = _settings(token_registry, allow=realm, auth_file=str(auth_file))
    async with RegistryClient(settings) as client:
        with pytest.raises(RegistryDenied) as refused:
            await client.resolve(ref)
    assert refused.value.registry == host
    assert refused.value.message.startswith(f"registry {host} refused the credentials")


async def test_tls_with_and_without_the_ca_bundle(
    registry: RunningRegistry, tls_registry: RunningRegistry, pki: Pki
) -> None:
    pushed = _push(registry, "client/tls")
    ref = _ref(tls_registry, "client/tls:v1")
    async with RegistryClient(_settings(tls_registry, ca_bundle=str(pki.ca_file))) as client:
        resolved = await client.resolve(ref)
    assert resolved.top_digest == pushed.digest

    async with RegistryClient(_settings(tls_registry, max_retries=0)) as client:
        with pytest.raises(RegistryUnavailable) as caught:
            await client.resolve(ref)
    assert caught.value.registry == tls_registry.host
    assert caught.value.message.startswith(
        f"registry {tls_registry.host} is unreachable: its TLS certificate could not be verified"
    )
