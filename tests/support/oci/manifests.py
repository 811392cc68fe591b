"""Image configs, image manifests (OCI, Docker schema 2 and signed schema 1) and image indexes."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.oci.layers import Blob
from tests.support.oci.media_types import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Kind,
    sha256_digest,
)

if TYPE_CHECKING:
    from tests.support.oci.push import PushedImage

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
