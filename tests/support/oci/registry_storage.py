"""Writing straight into a running registry's filesystem storage: what its API refuses or
never does (corrupted blobs, schema 1 manifests)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.support.oci.layers import Blob, LayerBuilder
from tests.support.oci.manifests import schema1_manifest
from tests.support.oci.media_types import sha256_digest
from tests.support.oci.push import push_blob
from tests.support.registry import RunningRegistry


def _storage(registry: RunningRegistry) -> Path:
    return registry.root / "docker" / "registry" / "v2"


def _blob_data_path(registry: RunningRegistry, digest: str) -> Path:
    algorithm, _, hex_digest = digest.partition(":")
    return _storage(registry) / "blobs" / algorithm / hex_digest[:2] / hex_digest / "data"


def corrupt_blob(registry: RunningRegistry, digest: str) -> None:
    """Overwrite the stored bytes of blob `digest` in place (same length, every byte flipped), so
    the registry serves content that no longer hashes to `digest`. Works for layers, configs and
    manifests alike: the registry keeps all of them as blobs and does not re-verify on read."""
    path = _blob_data_path(registry, digest)
    data = path.read_bytes()
    path.write_bytes(bytes(byte ^ 0xFF for byte in data))


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def push_schema1(
    registry: RunningRegistry,
    repo: str,
    tag: str,
    layers: Sequence[Blob] | None = None,
    *,
    architecture: str = "amd64",
) -> str:
    """Make `GET /v2/<repo>/manifests/<tag>` serve a Docker schema 1 manifest; returns its digest.

    distribution 2.8 refuses schema 1 PUTs in its default configuration (500, "manifest schema
    v1 unsupported"), but still serves schema 1 manifests it has stored. So the layer blobs go
    through the API and the manifest goes straight into the filesystem storage of the running
    registry: the unsigned payload as a blob, plus the revision and tag links.

    What the registry then serves (verified against 2.8.2), for any Accept header, by tag or
    digest: Content-Type `application/vnd.docker.distribution.manifest.v1+prettyjws`; a body
    that is the stored payload signed on the fly with the registry's own key (a `signatures`
    array spliced in, so the bytes change from request to request); Docker-Content-Digest = the
    returned digest, sha256 of the unsigned payload, NOT of the served body.
    `layers` defaults to one small layer holding etc/os-release.
    """
    if layers is None:
        layers = [LayerBuilder().add_file("etc/os-release", b"ID=debian\nVERSION_ID=9\n").build()]
    for layer in layers:
        push_blob(registry, repo, layer.data)
    payload = schema1_manifest(repo, tag, layers, architecture=architecture)
    digest = sha256_digest(payload)
    algorithm, _, hex_digest = digest.partition(":")
    _write_atomic(_blob_data_path(registry, digest), payload)
    manifests = _storage(registry) / "repositories" / repo / "_manifests"
    _write_atomic(manifests / "revisions" / algorithm / hex_digest / "link", digest.encode())
    tag_dir = manifests / "tags" / tag
    _write_atomic(tag_dir / "index" / algorithm / hex_digest / "link", digest.encode())
    _write_atomic(tag_dir / "current" / "link", digest.encode())
    return digest
