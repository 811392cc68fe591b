"""Container images built in Python, for the scanner tests and the scan benchmark.

Builds are reproducible: tar entries carry a fixed mtime and root ownership, gzip streams carry
no timestamp, so the same input gives the same digests.

- `media_types`: media types of layers, configs, manifests; `sha256_digest`
- `layers`: layer blobs from tar entries (`LayerBuilder`) or ready tar bytes and chunk streams
- `manifests`: image configs, manifests (OCI, Docker schema 2, signed schema 1), indexes
- `push`: pushing blobs, manifests, images and indexes to the test registry over HTTP
- `registry_storage`: writing into the registry's storage (corrupt blobs, schema 1 manifests)
- `samples`: small Debian- and Alpine-style images with known contents, and OSV records for them
- `tarballs`: hand-made tar entries and compressed bytes for the layer reader's unit tests

The names of the first five are importable from this package itself.
"""

from __future__ import annotations

from tests.support.oci.layers import (
    MTIME,
    Blob,
    LayerBuilder,
    layer_from_chunks,
    layer_from_tar,
    zero_file_tar_chunks,
)
from tests.support.oci.manifests import image_config, image_index, image_manifest, schema1_manifest
from tests.support.oci.media_types import (
    ACCEPT_ALL,
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_SCHEMA1,
    DOCKER_SCHEMA1_SIGNED,
    LAYER_MEDIA_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Compression,
    Kind,
    sha256_digest,
)
from tests.support.oci.push import (
    PushedImage,
    RegistryError,
    Response,
    get_blob,
    get_manifest,
    mount_blob,
    push_blob,
    push_image,
    push_index,
    push_manifest,
    push_tag,
    request,
)
from tests.support.oci.registry_storage import corrupt_blob, push_schema1

__all__ = [
    "ACCEPT_ALL",
    "DOCKER_CONFIG",
    "DOCKER_LAYER_GZIP",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_SCHEMA1",
    "DOCKER_SCHEMA1_SIGNED",
    "LAYER_MEDIA_TYPES",
    "MTIME",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_TAR",
    "OCI_LAYER_ZSTD",
    "OCI_MANIFEST",
    "Blob",
    "Compression",
    "Kind",
    "LayerBuilder",
    "PushedImage",
    "RegistryError",
    "Response",
    "corrupt_blob",
    "get_blob",
    "get_manifest",
    "image_config",
    "image_index",
    "image_manifest",
    "layer_from_chunks",
    "layer_from_tar",
    "mount_blob",
    "push_blob",
    "push_image",
    "push_index",
    "push_manifest",
    "push_schema1",
    "push_tag",
    "request",
    "schema1_manifest",
    "sha256_digest",
    "zero_file_tar_chunks",
]
