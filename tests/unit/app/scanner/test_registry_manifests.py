"""Manifest media type detection and descriptor validation."""

from __future__ import annotations

import json

import pytest

from app.scanner.registry import manifests
from app.scanner.registry.manifests import ManifestFormatError, decode_manifest

DIGEST = "sha256:" + "a" * 64


def _body(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("document", "content_type", "media_type"),
    [
        ({"mediaType": manifests.DOCKER_MANIFEST}, "application/json", manifests.DOCKER_MANIFEST),
        ({"manifests": []}, "", manifests.OCI_INDEX),
        ({"manifests": []}, manifests.DOCKER_MANIFEST_LIST, manifests.DOCKER_MANIFEST_LIST),
        ({"config": {}, "layers": []}, "application/json", manifests.OCI_MANIFEST),
        (
            {"schemaVersion": 1, "signatures": []},
            "application/json",
            manifests.DOCKER_SCHEMA1_SIGNED,
        ),
        ({"schemaVersion": 1}, "", manifests.DOCKER_SCHEMA1),
        ({}, "text/plain; charset=utf-8", "text/plain"),
    ],
)
def test_media_type_detection(document: dict, content_type: str, media_type: str) -> None:
    assert decode_manifest(_body(document), content_type)[0] == media_type


@pytest.mark.parametrize("body", [b"not json", b"[]", b"\xff"])
def test_not_a_json_object(body: bytes) -> None:
    with pytest.raises(ManifestFormatError):
        decode_manifest(body, "")


def test_image_manifest_with_foreign_layer_urls() -> None:
    document = {
        "config": {"mediaType": "c", "digest": DIGEST, "size": 2},
        "layers": [{"mediaType": "l", "digest": DIGEST, "size": 3, "urls": ["https://x/l"]}],
    }
    parsed = manifests.parse_image_manifest(document, manifests.OCI_MANIFEST)
    assert parsed.layers[0].urls == ("https://x/l",)
    assert parsed.config.size == 2


@pytest.mark.parametrize(
    "descriptor",
    [
        {"digest": "md5:abc", "size": 1},
        {"digest": DIGEST, "size": -1},
        {"digest": DIGEST, "size": True},
        {"digest": DIGEST},
        {"digest": DIGEST, "size": 1, "urls": "https://x"},
        "not an object",
    ],
)
def test_bad_descriptors(descriptor: object) -> None:
    with pytest.raises(ManifestFormatError):
        manifests.parse_image_manifest({"config": descriptor, "layers": []}, manifests.OCI_MANIFEST)


def test_index_platforms_leave_out_attestations() -> None:
    index = manifests.parse_index(
        {
            "manifests": [
                {"digest": DIGEST, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
                {
                    "digest": DIGEST,
                    "size": 1,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                },
                {"digest": DIGEST, "size": 1},
            ]
        },
        manifests.OCI_INDEX,
    )
    assert index.platforms() == ["linux/amd64"]
