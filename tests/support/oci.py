"""Build container images in Python and push them to a test registry over its HTTP API.

Everything here is synchronous (`http.client`) and talks to the loopback registry that
`tests.support.registry.start_registry` runs; every call sends Basic auth when the registry has
credentials. Builds are reproducible: tar entries carry a fixed mtime and root ownership, gzip
streams carry no timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.registry import RunningRegistry

Compression = Literal["gzip", "zstd", "none"]
Kind = Literal["oci", "docker"]

OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

# Every manifest type, for an Accept header that lets the registry serve what it stores.
ACCEPT_ALL = ", ".join(
    [
        OCI_MANIFEST,
        OCI_INDEX,
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_SCHEMA1_SIGNED,
        DOCKER_SCHEMA1,
    ]
)

LAYER_MEDIA_TYPES: dict[Compression, str] = {
    "gzip": OCI_LAYER_GZIP,
    "zstd": OCI_LAYER_ZSTD,
    "none": OCI_LAYER_TAR,
}

MTIME = 1704164645  # 2024-01-02T03:04:05Z, the mtime of every built tar entry
_CHUNK = 1 << 20


def sha256_digest(data: bytes) -> str:
    """The OCI digest ("sha256:<hex>") of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryError(Exception):
    """The registry answered a request with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        text = body[:500].decode(errors="replace")
        super().__init__(f"{method} {path} -> {status}: {text}")


# --------------------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Blob:
    """A layer blob as pushed: the (compressed) bytes and the digests a manifest and config need."""

    data: bytes
    digest: str  # "sha256:<hex>" of data
    media_type: str
    diff_id: str  # "sha256:<hex>" of the uncompressed tar
    size: int  # len(data)


class _Compressor:
    """Streams bytes through gzip, zstd or nothing, hashing input (diff_id) and output (digest)."""

    def __init__(self, compression: Compression, level: int | None) -> None:
        self.compression = compression
        self.raw_hash = hashlib.sha256()
        self.out = io.BytesIO()
        self._gzip: Any = None
        self._zstd_process: subprocess.Popen[bytes] | None = None
        self._zstd_out: Any = None
        self._zstd_obj: Any = None
        if compression == "gzip":
            # wbits 31 writes a gzip wrapper with mtime 0: the same input gives the same bytes.
            self._gzip = zlib.compressobj(6 if level is None else level, zlib.DEFLATED, 31)
        elif compression == "zstd":
            try:
                import zstandard  # noqa: PLC0415 - optional: falls back to the zstd CLI
            except ImportError:
                self._zstd_out = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish()
                self._zstd_process = subprocess.Popen(  # noqa: S603
                    ["zstd", "-q", "-c", f"-{3 if level is None else level}", "--no-check"],  # noqa: S607
                    stdin=subprocess.PIPE,
                    stdout=self._zstd_out,
                )
            else:
                compressor = zstandard.ZstdCompressor(level=3 if level is None else level)
                self._zstd_obj = compressor.compressobj()
        elif compression != "none":
            raise ValueError(f"unknown compression {compression!r}")

    def write(self, chunk: bytes) -> None:
        self.raw_hash.update(chunk)
        if self._gzip is not None:
            self.out.write(self._gzip.compress(chunk))
        elif self._zstd_obj is not None:
            self.out.write(self._zstd_obj.compress(chunk))
        elif self._zstd_process is not None:
            assert self._zstd_process.stdin is not None
            self._zstd_process.stdin.write(chunk)
        else:
            self.out.write(chunk)

    def finish(self, media_type: str | None) -> Blob:
        if self._gzip is not None:
            self.out.write(self._gzip.flush())
        elif self._zstd_obj is not None:
            self.out.write(self._zstd_obj.flush())
        elif self._zstd_process is not None:
            assert self._zstd_process.stdin is not None
            self._zstd_process.stdin.close()
            if self._zstd_process.wait() != 0:
                raise RuntimeError(f"zstd exited with status {self._zstd_process.returncode}")
            self._zstd_out.seek(0)
            self.out.write(self._zstd_out.read())
            self._zstd_out.close()
        data = self.out.getvalue()
        return Blob(
            data=data,
            digest=sha256_digest(data),
            media_type=media_type or LAYER_MEDIA_TYPES[self.compression],
            diff_id="sha256:" + self.raw_hash.hexdigest(),
            size=len(data),
        )


def layer_from_chunks(
    chunks: Iterable[bytes],
    compression: Compression = "gzip",
    *,
    media_type: str | None = None,
    level: int | None = None,
) -> Blob:
    """A layer blob from an uncompressed tar given as a stream of chunks (bombs need not fit in RAM
    uncompressed). `media_type` overrides the OCI type that `compression` implies."""
    compressor = _Compressor(compression, level)
    for chunk in chunks:
        compressor.write(chunk)
    return compressor.finish(media_type)


def layer_from_tar(
    tar: bytes,
    compression: Compression = "gzip",
    *,
    media_type: str | None = None,
    level: int | None = None,
) -> Blob:
    """A layer blob from ready uncompressed tar bytes (hand-made or malformed archives)."""
    return layer_from_chunks([tar], compression, media_type=media_type, level=level)


def _tar_info(path: str, kind: bytes, *, size: int = 0, mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path.lstrip("/"))
    info.type = kind
    info.size = size
    info.mode = mode
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def zero_file_tar_chunks(files: Iterable[tuple[str, int]], chunk: int = _CHUNK) -> Iterator[bytes]:
    """An uncompressed tar, streamed, holding regular files of the given sizes full of zero bytes.

    With `layer_from_chunks` this builds decompression bombs: a GiB of zeros gzips to about a MiB.
    """
    zeros = bytes(chunk)
    for path, size in files:
        yield _tar_info(path, tarfile.REGTYPE, size=size).tobuf(format=tarfile.PAX_FORMAT)
        remaining = size
        while remaining > 0:
            step = min(remaining, chunk)
            yield zeros[:step]
            remaining -= step
        if size % tarfile.BLOCKSIZE:
            yield bytes(tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE)
    yield bytes(2 * tarfile.BLOCKSIZE)


class LayerBuilder:
    """Collects tar entries, in order, and builds a reproducible layer blob from them.

    Paths are stored as given minus a leading "/" (so "etc/os-release" or "/etc/os-release").
    Parent directories are not added implicitly; use `add_dir` where a test wants them.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[tarfile.TarInfo, bytes | None]] = []

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> LayerBuilder:
        self._entries.append((_tar_info(path, tarfile.REGTYPE, size=len(data), mode=mode), data))
        return self

    def add_dir(self, path: str, mode: int = 0o755) -> LayerBuilder:
        self._entries.append((_tar_info(path.rstrip("/"), tarfile.DIRTYPE, mode=mode), None))
        return self

    def add_symlink(self, path: str, target: str) -> LayerBuilder:
        info = _tar_info(path, tarfile.SYMTYPE, mode=0o777)
        info.linkname = target
        self._entries.append((info, None))
        return self

    def add_hardlink(self, path: str, target: str) -> LayerBuilder:
        """A hard link; `target` is the archive path of an earlier entry."""
        info = _tar_info(path, tarfile.LNKTYPE)
        info.linkname = target.lstrip("/")
        self._entries.append((info, None))
        return self

    def add_whiteout(self, path: str) -> LayerBuilder:
        """Delete `path` from lower layers: an empty file `dir/.wh.name`."""
        parent, _, name = path.strip("/").rpartition("/")
        return self.add_file(f"{parent}/.wh.{name}" if parent else f".wh.{name}", b"")

    def add_opaque(self, directory: str) -> LayerBuilder:
        """Hide everything lower layers put in `directory`: an empty `dir/.wh..wh..opq`."""
        return self.add_file(f"{directory.strip('/')}/.wh..wh..opq", b"")

    def tar(self) -> bytes:
        """The uncompressed tar archive."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, data in self._entries:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
        return buffer.getvalue()

    def build(
        self,
        compression: Compression = "gzip",
        *,
        media_type: str | None = None,
        level: int | None = None,
    ) -> Blob:
        """The layer blob; media type is the OCI one for `compression` unless `media_type` says."""
        return layer_from_tar(self.tar(), compression, media_type=media_type, level=level)


# ------------------------------------------------------------------------ configs and manifests

_DEFAULT_CREATED_BY = [
    "/bin/sh -c #(nop) ADD file:{hex} in / ",
    "/bin/sh -c apt-get update && apt-get install -y curl",
    "/bin/sh -c #(nop) COPY dir:{hex} in /app ",
    "/bin/sh -c pip install --no-cache-dir requests",
]


def _json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def image_config(
    layers: Sequence[Blob],
    *,
    architecture: str = "amd64",
    os: str = "linux",
    variant: str | None = None,
    created: str = "2024-01-02T03:04:05Z",
    author: str = "",
    user: str = "",
    cmd: list[str] | None = None,
    entrypoint: list[str] | None = None,
    env: list[str] | None = None,
    labels: dict[str, str] | None = None,
    volumes: list[str] | None = None,
    working_dir: str = "",
    history: list[dict[str, Any]] | None = None,
) -> bytes:
    """An image config JSON whose rootfs.diff_ids are the layers' diff_ids.

    Fields given as None (or "") are left out. Without `history`, one non-empty history entry per
    layer with a plausible `created_by`. Empty-layer entries look like
    `{"created": ..., "created_by": "/bin/sh -c #(nop)  CMD [\\"bash\\"]", "empty_layer": true}`.
    """
    config: dict[str, Any] = {}
    if user:
        config["User"] = user
    if env is not None:
        config["Env"] = env
    if entrypoint is not None:
        config["Entrypoint"] = entrypoint
    if cmd is not None:
        config["Cmd"] = cmd
    if working_dir:
        config["WorkingDir"] = working_dir
    if volumes is not None:
        config["Volumes"] = {path: {} for path in volumes}
    if labels is not None:
        config["Labels"] = labels
    if history is None:
        history = [
            {
                "created": created,
                "created_by": _DEFAULT_CREATED_BY[i % len(_DEFAULT_CREATED_BY)].format(
                    hex=layer.diff_id.removeprefix("sha256:")
                ),
            }
            for i, layer in enumerate(layers)
        ]
    document: dict[str, Any] = {"created": created}
    if author:
        document["author"] = author
    document["architecture"] = architecture
    if variant:
        document["variant"] = variant
    document["os"] = os
    document["config"] = config
    document["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]}
    document["history"] = history
    return _json(document)


def _layer_media_type(layer: Blob, kind: Kind) -> str:
    if kind == "docker" and layer.media_type == OCI_LAYER_GZIP:
        return DOCKER_LAYER_GZIP
    return layer.media_type


def image_manifest(
    layers: Sequence[Blob],
    config: bytes,
    *,
    kind: Kind = "oci",
    annotations: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """The manifest bytes and media type for `config` and `layers`.

    kind "oci": an OCI image manifest (schemaVersion 2 with mediaType); kind "docker": a Docker
    v2 schema 2 manifest, whose OCI gzip layers are declared with the Docker gzip layer type
    (other layer types are kept as built).
    """
    media_type = OCI_MANIFEST if kind == "oci" else DOCKER_MANIFEST
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": OCI_CONFIG if kind == "oci" else DOCKER_CONFIG,
            "digest": sha256_digest(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": _layer_media_type(layer, kind),
                "digest": layer.digest,
                "size": layer.size,
            }
            for layer in layers
        ],
    }
    if annotations:
        document["annotations"] = annotations
    return _json(document), media_type


# ---------------------------------------------------------------------------------------- HTTP


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


def _platform(platform: str) -> dict[str, str]:
    os_name, _, rest = platform.partition("/")
    architecture, _, variant = rest.partition("/")
    if not os_name or not architecture:
        raise ValueError(f"platform {platform!r} is not os/arch[/variant]")
    result = {"architecture": architecture, "os": os_name}
    if variant:
        result["variant"] = variant
    return result


def image_index(
    entries: Sequence[tuple[PushedImage, str]], *, kind: Kind = "oci"
) -> tuple[bytes, str]:
    """The bytes and media type of an OCI image index or Docker manifest list over `entries`
    (image, "os/arch[/variant]")."""
    media_type = OCI_INDEX if kind == "oci" else DOCKER_MANIFEST_LIST
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {
                "mediaType": image.media_type,
                "digest": image.digest,
                "size": len(image.manifest),
                "platform": _platform(platform),
            }
            for image, platform in entries
        ],
    }
    return _json(document), media_type


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


# ------------------------------------------------------------------------------ schema 1, disk


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def schema1_manifest(
    repo: str,
    tag: str,
    layers: Sequence[Blob],
    *,
    architecture: str = "amd64",
    signed: bool = False,
) -> bytes:
    """A Docker image manifest v2 schema 1 for `layers` (bottom-first, as in a config; schema 1
    lists them top-first).

    Unsigned (the default) it is the canonical payload, which is what distribution stores and
    hashes. With `signed`, it carries a libtrust JWS signature (ES256, the "pretty" form with the
    signatures spliced in before the closing brace): the form a client PUTs as
    `application/vnd.docker.distribution.manifest.v1+prettyjws`. distribution 2.8 verifies this
    signature and accepts the push only when `compatibility.schema1.enabled` is set; by default
    it refuses any schema 1 PUT with 500 "manifest schema v1 unsupported".
    """
    history = []
    parent = ""
    for i, layer in enumerate(layers):
        layer_id = hashlib.sha256(f"{parent}{layer.digest}".encode()).hexdigest()
        v1: dict[str, Any] = {
            "id": layer_id,
            "created": "2024-01-02T03:04:05Z",
            "container_config": {"Cmd": [f"/bin/sh -c #(nop) ADD file:{i} in / "]},
        }
        if parent:
            v1["parent"] = parent
        if i == len(layers) - 1:
            v1 |= {"architecture": architecture, "os": "linux", "config": {"Cmd": ["sh"]}}
        history.append({"v1Compatibility": json.dumps(v1, separators=(",", ":"))})
        parent = layer_id
    document = {
        "schemaVersion": 1,
        "name": repo,
        "tag": tag,
        "architecture": architecture,
        "fsLayers": [{"blobSum": layer.digest} for layer in reversed(layers)],
        "history": list(reversed(history)),
    }
    payload = json.dumps(document, indent=3).encode()
    return _sign_schema1(payload) if signed else payload


def _sign_schema1(payload: bytes) -> bytes:
    # libtrust: formatLength ends at the last non-space byte before the final "}", formatTail is
    # the rest; the signed payload is the whole unsigned document.
    close = len(payload.rstrip()) - 1
    format_length = len(payload[:close].rstrip())
    format_tail = payload[format_length:]
    key = ec.generate_private_key(ec.SECP256R1())
    header = {
        "formatLength": format_length,
        "formatTail": _b64url(format_tail),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    protected = _b64url(json.dumps(header).encode())
    signing_input = f"{protected}.{_b64url(payload)}".encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    numbers = key.public_key().public_numbers()
    signature = {
        "header": {
            "jwk": {
                "crv": "P-256",
                "kid": _libtrust_key_id(key.public_key()),
                "kty": "EC",
                "x": _b64url(numbers.x.to_bytes(32, "big")),
                "y": _b64url(numbers.y.to_bytes(32, "big")),
            },
            "alg": "ES256",
        },
        "signature": _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big")),
        "protected": protected,
    }
    signatures = json.dumps([signature], indent=3).replace("\n", "\n   ").encode()
    return payload[:format_length] + b',\n   "signatures": ' + signatures + format_tail


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
