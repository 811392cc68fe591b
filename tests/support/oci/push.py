"""Pushing blobs, manifests, images and indexes to the test registry over its HTTP API.

Synchronous (`http.client`), against the loopback registry that
`tests.support.registry.start_registry` runs; every call sends Basic auth when the registry has
credentials.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.support.oci.layers import Blob
from tests.support.oci.manifests import image_index, image_manifest
from tests.support.oci.media_types import ACCEPT_ALL, Kind, sha256_digest
from tests.support.registry import RunningRegistry


class RegistryError(Exception):
    """The registry answered a request with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        text = body[:500].decode(errors="replace")
        super().__init__(f"{method} {path} -> {status}: {text}")


@dataclass(frozen=True)
class Response:
    """A registry answer, read in full. Header names are lower-case."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def request(
    registry: RunningRegistry,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: bool = True,
) -> Response:
    """One HTTP request to the registry; never raises for an HTTP status.

    `path` is "/v2/..." or an absolute URL on the registry (as in a Location header). With
    `auth` (the default) Basic credentials are sent when the registry has them.
    """
    parts = urllib.parse.urlsplit(path)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    sent = dict(headers or {})
    if auth and registry.auth_header is not None:
        sent.setdefault("Authorization", registry.auth_header)
    if body is not None:
        sent.setdefault("Content-Length", str(len(body)))
    connection = http.client.HTTPConnection(registry.host, timeout=60)
    try:
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        return Response(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=data,
        )
    finally:
        connection.close()


def _expect(response: Response, method: str, path: str, *statuses: int) -> Response:
    if response.status not in statuses:
        raise RegistryError(method, path, response.status, response.body)
    return response


def get_manifest(
    registry: RunningRegistry, repo: str, reference: str, *, accept: str = ACCEPT_ALL
) -> Response:
    """`GET /v2/<repo>/manifests/<reference>` with an Accept header (all manifest types)."""
    return request(registry, "GET", f"/v2/{repo}/manifests/{reference}", headers={"Accept": accept})


def get_blob(registry: RunningRegistry, repo: str, digest: str) -> Response:
    """`GET /v2/<repo>/blobs/<digest>`."""
    return request(registry, "GET", f"/v2/{repo}/blobs/{digest}")


def push_blob(registry: RunningRegistry, repo: str, data: bytes) -> str:
    """Upload `data` as a blob of `repo` (monolithic: POST, then PUT with the digest); returns the
    digest. Nothing is uploaded when the repository already has the blob."""
    digest = sha256_digest(data)
    head = request(registry, "HEAD", f"/v2/{repo}/blobs/{digest}")
    if head.status == 200:
        return digest
    start = f"/v2/{repo}/blobs/uploads/"
    location = _expect(request(registry, "POST", start), "POST", start, 202).headers["location"]
    parts = urllib.parse.urlsplit(location)
    query = urllib.parse.urlencode({"digest": digest})
    target = parts.path + "?" + (f"{parts.query}&{query}" if parts.query else query)
    put = request(
        registry,
        "PUT",
        target,
        body=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    _expect(put, "PUT", target, 201)
    served = put.headers.get("docker-content-digest")
    if served is not None and served != digest:
        raise AssertionError(f"registry stored blob {digest} as {served}")
    return digest


def mount_blob(registry: RunningRegistry, repo: str, digest: str, source_repo: str) -> None:
    """Make blob `digest` of `source_repo` a blob of `repo` too (cross-repository mount)."""
    query = urllib.parse.urlencode({"mount": digest, "from": source_repo})
    path = f"/v2/{repo}/blobs/uploads/?{query}"
    _expect(request(registry, "POST", path), "POST", path, 201)


def push_manifest(
    registry: RunningRegistry, repo: str, reference: str, body: bytes, media_type: str
) -> str:
    """PUT a manifest under a tag or digest `reference`; returns its digest (the registry's
    Docker-Content-Digest, checked against sha256 of `body`)."""
    path = f"/v2/{repo}/manifests/{reference}"
    put = request(registry, "PUT", path, body=body, headers={"Content-Type": media_type})
    _expect(put, "PUT", path, 201)
    digest = sha256_digest(body)
    served = put.headers.get("docker-content-digest")
    if served != digest:
        raise AssertionError(f"registry answered digest {served} for manifest {digest}")
    return digest


def push_tag(
    registry: RunningRegistry, repo: str, tag: str, manifest: bytes, media_type: str
) -> str:
    """Point `tag` at `manifest` (pushing it again is how a tag moves); returns its digest."""
    return push_manifest(registry, repo, tag, manifest, media_type)


@dataclass(frozen=True)
class PushedImage:
    """What `push_image` put in the registry."""

    repo: str
    tag: str
    digest: str  # manifest digest
    manifest: bytes
    media_type: str  # the manifest's media type
    config_digest: str
    layer_digests: tuple[str, ...] = field(default=())

    def reference(self, registry: RunningRegistry, *, by_digest: bool = False) -> str:
        """The image name: "127.0.0.1:PORT/repo:tag" (or "...@sha256:..." with by_digest)."""
        suffix = f"@{self.digest}" if by_digest else f":{self.tag}"
        return f"{registry.host}/{self.repo}{suffix}"


def push_image(
    registry: RunningRegistry,
    repo: str,
    tag: str,
    layers: Sequence[Blob],
    config: bytes,
    *,
    kind: Kind = "oci",
    annotations: dict[str, str] | None = None,
) -> PushedImage:
    """Push layer blobs, the config blob and a manifest (see `image_manifest`) tagged `tag`."""
    for layer in layers:
        push_blob(registry, repo, layer.data)
    config_digest = push_blob(registry, repo, config)
    manifest, media_type = image_manifest(layers, config, kind=kind, annotations=annotations)
    digest = push_manifest(registry, repo, tag, manifest, media_type)
    return PushedImage(
        repo=repo,
        tag=tag,
        digest=digest,
        manifest=manifest,
        media_type=media_type,
        config_digest=config_digest,
        layer_digests=tuple(layer.digest for layer in layers),
    )


def push_index(
    registry: RunningRegistry,
    repo: str,
    tag: str,
    entries: Sequence[tuple[PushedImage, str]],
    *,
    kind: Kind = "oci",
) -> str:
    """Push an OCI image index (kind "oci") or Docker manifest list (kind "docker") tagged `tag`;
    returns its digest. Images pushed to another repository are mounted into `repo` first."""
    for image, _ in entries:
        if image.repo != repo:
            for digest in (*image.layer_digests, image.config_digest):
                mount_blob(registry, repo, digest, image.repo)
            push_manifest(registry, repo, image.digest, image.manifest, image.media_type)
    body, media_type = image_index(entries, kind=kind)
    return push_manifest(registry, repo, tag, body, media_type)
