"""The scanner tests' infrastructure works against the real registry: pushes, auth, corruption."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
import tarfile

import pytest

from tests.support import oci
from tests.support.registry import RunningRegistry


def _layers() -> list[oci.Blob]:
    base = (
        oci.LayerBuilder()
        .add_dir("etc")
        .add_file("etc/os-release", b'ID=debian\nVERSION_ID="12"\n')
        .add_dir("usr/bin")
        .add_file("usr/bin/tool", b"\x7fELF", mode=0o755)
        .add_symlink("usr/bin/alias", "tool")
        .build()
    )
    upper = (
        oci.LayerBuilder()
        .add_whiteout("usr/bin/alias")
        .add_opaque("var/cache")
        .add_file("var/cache/new", b"x")
        .build("zstd")
    )
    plain = oci.LayerBuilder().add_file("app/main.py", b"print('hi')\n").build("none")
    return [base, upper, plain]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_builds_are_reproducible_and_well_formed() -> None:
    first, second = _layers(), _layers()
    assert [layer.digest for layer in first] == [layer.digest for layer in second]
    base, upper, plain = first
    assert base.media_type == oci.OCI_LAYER_GZIP
    assert upper.media_type == oci.OCI_LAYER_ZSTD
    assert plain.media_type == oci.OCI_LAYER_TAR
    assert plain.digest == plain.diff_id
    tar = gzip.decompress(base.data)
    assert _sha256(tar) == base.diff_id
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        members = {member.name: member for member in archive.getmembers()}
    assert members["usr/bin/tool"].mode == 0o755
    assert members["usr/bin/alias"].issym()
    assert {member.mtime for member in members.values()} == {oci.MTIME}
    assert upper.data[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic
    unzstd = subprocess.run(["zstd", "-dc"], input=upper.data, capture_output=True, check=True)  # noqa: S607
    with tarfile.open(fileobj=io.BytesIO(unzstd.stdout)) as archive:
        names = archive.getnames()
    assert names == ["usr/bin/.wh.alias", "var/cache/.wh..wh..opq", "var/cache/new"]
    assert _sha256(unzstd.stdout) == upper.diff_id


def test_zero_file_bomb_streams() -> None:
    size = 32 << 20
    bomb = oci.layer_from_chunks(oci.zero_file_tar_chunks([("big", size), ("odd", 1000)]))
    assert bomb.size < size // 100
    tar = gzip.decompress(bomb.data)
    assert _sha256(tar) == bomb.diff_id
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        assert [(m.name, m.size) for m in archive.getmembers()] == [("big", size), ("odd", 1000)]


def test_image_config_shape() -> None:
    layers = _layers()
    config = json.loads(
        oci.image_config(layers, architecture="arm64", variant="v8", user="app", cmd=["bash"])
    )
    assert config["rootfs"] == {"type": "layers", "diff_ids": [x.diff_id for x in layers]}
    assert config["architecture"] == "arm64"
    assert config["variant"] == "v8"
    assert config["config"] == {"User": "app", "Cmd": ["bash"]}
    assert len(config["history"]) == 3
    assert config["history"][0]["created_by"].startswith("/bin/sh -c #(nop) ADD file:")


@pytest.mark.parametrize(
    ("kind", "manifest_type", "config_type", "first_layer_type"),
    [
        ("oci", oci.OCI_MANIFEST, oci.OCI_CONFIG, oci.OCI_LAYER_GZIP),
        ("docker", oci.DOCKER_MANIFEST, oci.DOCKER_CONFIG, oci.DOCKER_LAYER_GZIP),
    ],
)
def test_push_image_and_read_it_back(
    registry: RunningRegistry,
    kind: oci.Kind,
    manifest_type: str,
    config_type: str,
    first_layer_type: str,
) -> None:
    layers = _layers()
    config = oci.image_config(layers, env=["PATH=/usr/bin"], labels={"team": "scan"})
    repo = f"fixture/{kind}-image"
    pushed = oci.push_image(registry, repo, "v1", layers, config, kind=kind)
    assert pushed.media_type == manifest_type
    assert pushed.reference(registry) == f"{registry.host}/{repo}:v1"

    response = oci.get_manifest(registry, repo, "v1", accept=manifest_type)
    assert response.status == 200
    assert response.content_type == manifest_type
    assert response.headers["docker-content-digest"] == pushed.digest
    assert response.body == pushed.manifest
    manifest = json.loads(response.body)
    assert manifest["config"] == {
        "mediaType": config_type,
        "digest": pushed.config_digest,
        "size": len(config),
    }
    assert [layer["mediaType"] for layer in manifest["layers"]] == [
        first_layer_type,
        oci.OCI_LAYER_ZSTD,
        oci.OCI_LAYER_TAR,
    ]
    by_digest = oci.get_manifest(registry, repo, pushed.digest)
    assert by_digest.body == pushed.manifest
    assert oci.get_blob(registry, repo, pushed.config_digest).body == config
    for layer in layers:
        blob = oci.get_blob(registry, repo, layer.digest)
        assert blob.status == 200
        assert blob.body == layer.data


def test_push_blob_skips_existing_blob(registry: RunningRegistry) -> None:
    data = b"already there"
    digest = oci.push_blob(registry, "fixture/blobs", data)
    assert oci.push_blob(registry, "fixture/blobs", data) == digest
    assert oci.get_blob(registry, "fixture/blobs", digest).body == data


def test_push_tag_moves_a_tag(registry: RunningRegistry) -> None:
    layer = oci.LayerBuilder().add_file("a", b"1").build()
    one = oci.push_image(registry, "fixture/moving", "latest", [layer], oci.image_config([layer]))
    other = oci.LayerBuilder().add_file("a", b"2").build()
    two = oci.push_image(registry, "fixture/moving", "v2", [other], oci.image_config([other]))
    before = oci.get_manifest(registry, "fixture/moving", "latest")
    assert before.headers["docker-content-digest"] == one.digest
    oci.push_tag(registry, "fixture/moving", "latest", two.manifest, two.media_type)
    moved = oci.get_manifest(registry, "fixture/moving", "latest")
    assert moved.headers["docker-content-digest"] == two.digest


@pytest.mark.parametrize(
    ("kind", "index_type"), [("oci", oci.OCI_INDEX), ("docker", oci.DOCKER_MANIFEST_LIST)]
)
def test_push_index_with_two_platforms(
    registry: RunningRegistry, kind: oci.Kind, index_type: str
) -> None:
    repo = f"fixture/{kind}-multi"
    amd = oci.LayerBuilder().add_file("arch", b"amd64").build()
    arm = oci.LayerBuilder().add_file("arch", b"arm").build()
    amd_image = oci.push_image(registry, repo, "amd64", [amd], oci.image_config([amd]), kind=kind)
    # The arm image lives in another repository: push_index mounts it into `repo`.
    arm_image = oci.push_image(
        registry,
        "fixture/elsewhere",
        f"{kind}-arm",
        [arm],
        oci.image_config([arm], architecture="arm", variant="v7"),
        kind=kind,
    )
    digest = oci.push_index(
        registry,
        repo,
        "multi",
        [(amd_image, "linux/amd64"), (arm_image, "linux/arm/v7")],
        kind=kind,
    )
    response = oci.get_manifest(registry, repo, "multi")
    assert response.status == 200
    assert response.content_type == index_type
    assert response.headers["docker-content-digest"] == digest == _sha256(response.body)
    index = json.loads(response.body)
    assert index["mediaType"] == index_type
    assert [entry["platform"] for entry in index["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
    ]
    for entry, image in zip(index["manifests"], [amd_image, arm_image], strict=True):
        assert entry["digest"] == image.digest
        child = oci.get_manifest(registry, repo, entry["digest"])
        assert child.status == 200
        assert child.body == image.manifest
    assert oci.get_blob(registry, repo, arm.digest).body == arm.data


def test_auth_registry_requires_credentials(auth_registry: RunningRegistry) -> None:
    assert auth_registry.username == "scanner"
    assert auth_registry.password
    anonymous = oci.request(auth_registry, "GET", "/v2/", auth=False)
    assert anonymous.status == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic realm=")
    wrong = oci.request(
        auth_registry, "GET", "/v2/", auth=False, headers={"Authorization": "Basic c2Nhbm5lcjp4"}
    )
    assert wrong.status == 401
    assert oci.request(auth_registry, "GET", "/v2/").status == 200

    layer = oci.LayerBuilder().add_file("secret", b"s").build()
    pushed = oci.push_image(
        auth_registry, "fixture/private", "v1", [layer], oci.image_config([layer])
    )
    assert oci.get_manifest(auth_registry, "fixture/private", "v1").body == pushed.manifest
    denied = oci.request(auth_registry, "GET", "/v2/fixture/private/manifests/v1", auth=False)
    assert denied.status == 401


def test_corrupt_blob_serves_bytes_that_do_not_match(registry: RunningRegistry) -> None:
    layer = oci.LayerBuilder().add_file("etc/os-release", b"ID=alpine\n").build()
    config = oci.image_config([layer])
    pushed = oci.push_image(registry, "fixture/corrupt", "v1", [layer], config)
    assert oci.get_blob(registry, "fixture/corrupt", layer.digest).body == layer.data

    oci.corrupt_blob(registry, layer.digest)
    oci.corrupt_blob(registry, pushed.config_digest)
    served = oci.get_blob(registry, "fixture/corrupt", layer.digest)
    assert served.status == 200
    assert len(served.body) == layer.size
    assert served.body != layer.data
    assert _sha256(served.body) != layer.digest
    config_served = oci.get_blob(registry, "fixture/corrupt", pushed.config_digest)
    assert config_served.status == 200
    assert _sha256(config_served.body) != pushed.config_digest
    # The manifest is untouched and still names the digests.
    assert oci.get_manifest(registry, "fixture/corrupt", "v1").body == pushed.manifest


def test_schema1_push_is_refused_through_the_api(registry: RunningRegistry) -> None:
    layer = oci.LayerBuilder().add_file("x", b"x").build()
    oci.push_blob(registry, "fixture/schema1-api", layer.data)
    body = oci.schema1_manifest("fixture/schema1-api", "v1", [layer], signed=True)
    refused = oci.request(
        registry,
        "PUT",
        "/v2/fixture/schema1-api/manifests/v1",
        body=body,
        headers={"Content-Type": oci.DOCKER_SCHEMA1_SIGNED},
    )
    assert refused.status >= 400


def test_push_schema1_makes_the_registry_serve_schema1(registry: RunningRegistry) -> None:
    digest = oci.push_schema1(registry, "fixture/schema1", "old")
    for reference in ("old", digest):
        for accept in (oci.ACCEPT_ALL, oci.OCI_MANIFEST):
            response = oci.get_manifest(registry, "fixture/schema1", reference, accept=accept)
            assert response.status == 200
            assert response.content_type == oci.DOCKER_SCHEMA1_SIGNED
            assert response.headers["docker-content-digest"] == digest
            manifest = json.loads(response.body)
            assert manifest["schemaVersion"] == 1
            assert manifest["name"] == "fixture/schema1"
            assert manifest["tag"] == "old"
            assert len(manifest["signatures"]) == 1
            # The digest is of the payload without the signatures the registry adds.
            header = json.loads(_b64url(manifest["signatures"][0]["protected"]))
            tail = _b64url(header["formatTail"])
            canonical = response.body[: header["formatLength"]] + tail
            assert _sha256(canonical) == digest
    layer_digest = manifest["fsLayers"][0]["blobSum"]
    assert oci.get_blob(registry, "fixture/schema1", layer_digest).status == 200
