"""Registry metadata messages: ImageMetadata, V1Metadata, V2Metadata, ImageLayer, DataSource."""

from __future__ import annotations

from schemas.base import Message, ProtoBool, ProtoString, Repeated, StringMap, Timestamp, UInt64
from schemas.message import ProtoSchema


class DataSourceSchema(ProtoSchema):
    """storage.DataSource: the integration that produced metadata or a scan."""

    id = ProtoString()
    name = ProtoString()
    mirror = ProtoString()


class ImageLayerSchema(ProtoSchema):
    """storage.ImageLayer."""

    instruction = ProtoString()
    value = ProtoString()
    created = Timestamp()
    author = ProtoString()
    empty = ProtoBool()


class V1MetadataSchema(ProtoSchema):
    """storage.V1Metadata (the image config)."""

    digest = ProtoString()
    created = Timestamp()
    author = ProtoString()
    layers = Repeated(Message(ImageLayerSchema))
    user = ProtoString()
    command = Repeated(ProtoString())
    entrypoint = Repeated(ProtoString())
    volumes = Repeated(ProtoString())
    labels = StringMap()


class V2MetadataSchema(ProtoSchema):
    """storage.V2Metadata."""

    digest = ProtoString()


class ImageMetadataSchema(ProtoSchema):
    """storage.ImageMetadata; ``layerShas`` run oldest to newest, ``version`` is a uint64 string."""

    v1 = Message(V1MetadataSchema)
    v2 = Message(V2MetadataSchema)
    layerShas = Repeated(ProtoString())
    dataSource = Message(DataSourceSchema)
    version = UInt64()
