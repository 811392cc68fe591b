"""storage.Image and storage.ListImage, and their canonical (stored) form."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from marshmallow import ValidationError

from schemas import enums
from schemas.base import (
    Enum,
    Float32,
    Int32,
    Int64,
    Message,
    ProtoBool,
    ProtoString,
    Repeated,
    Timestamp,
)
from schemas.message import ProtoSchema
from schemas.metadata import ImageMetadataSchema
from schemas.plan import schema_normalizer
from schemas.scan import ImageScanSchema
from schemas.signature import ImageSignatureSchema, ImageSignatureVerificationDataSchema

# OCI image-spec digest grammar, restricted to hex encodings (every registered algorithm).
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,}")
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


def validate_digest(value: str) -> None:
    """Check that ``value`` is a digest ``<algorithm>:<lower-case hex>``.

    Raises :exc:`marshmallow.ValidationError` otherwise.
    """
    if _DIGEST_RE.fullmatch(value):
        algorithm, _, encoded = value.partition(":")
        expected = _DIGEST_HEX_LENGTH.get(algorithm)
        if expected is None or len(encoded) == expected:
            return
    raise ValidationError("Must be an image digest such as 'sha256:<64 hex digits>'.")


class ImageNameSchema(ProtoSchema):
    """storage.ImageName."""

    registry = ProtoString()
    remote = ProtoString()
    tag = ProtoString()
    fullName = ProtoString()


class BaseImageInfoSchema(ProtoSchema):
    """storage.BaseImageInfo."""

    baseImageId = ProtoString()
    baseImageFullName = ProtoString()
    baseImageDigest = ProtoString()
    created = Timestamp()
    maxLayerIndex = Int32()


class ImageSchema(ProtoSchema):
    """storage.Image; ``components``, ``cves``, ``fixableCves`` and ``topCvss`` are oneofs.

    ``id`` is required and must be a digest.
    """

    id = ProtoString(required=True, validate=validate_digest)
    name = Message(ImageNameSchema)
    names = Repeated(Message(ImageNameSchema))
    metadata = Message(ImageMetadataSchema)
    scan = Message(ImageScanSchema)
    signatureVerificationData = Message(ImageSignatureVerificationDataSchema)
    signature = Message(ImageSignatureSchema)
    components = Int32(oneof=True)
    cves = Int32(oneof=True)
    fixableCves = Int32(oneof=True)
    lastUpdated = Timestamp()
    notPullable = ProtoBool()
    isClusterLocal = ProtoBool()
    priority = Int64()
    riskScore = Float32()
    topCvss = Float32(oneof=True)
    notes = Repeated(Enum(enums.IMAGE_NOTE))
    baseImageInfo = Repeated(Message(BaseImageInfoSchema))


class ListImageSchema(ProtoSchema):
    """storage.ListImage; ``components``, ``cves`` and ``fixableCves`` are oneofs."""

    id = ProtoString(required=True, validate=validate_digest)
    name = ProtoString()
    components = Int32(oneof=True)
    cves = Int32(oneof=True)
    fixableCves = Int32(oneof=True)
    created = Timestamp()
    lastUpdated = Timestamp()
    priority = Int64()


@cache
def _image_normalizer() -> Any:
    return schema_normalizer(ImageSchema)


def normalize_image(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return the canonical dict of a storage.Image JSON object.

    Input is protojson-lenient (camelCase or snake_case keys, unknown keys ignored, enums by
    name or number, int64 as string or number, RFC 3339 timestamps with any offset, ``null``
    for unset). Output: camelCase keys; every field present with its default except unset
    oneofs, which are absent; enums as names; int64/uint64 as decimal strings; sub-messages
    as dicts or ``None``; timestamps as aware UTC datetimes cut to milliseconds. Equal to
    ``ImageSchema().load(raw)``, several times faster.

    Raises :exc:`marshmallow.ValidationError` (messages keyed by field path) if the input is
    not a valid image or its ``id`` is not a digest.
    """
    result: dict[str, Any] = _image_normalizer()(raw)
    return result
