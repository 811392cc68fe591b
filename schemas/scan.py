"""The vulnerability scan message: ImageScan."""

from __future__ import annotations

from schemas import enums
from schemas.base import Enum, Message, ProtoString, Repeated, Timestamp, UInt64
from schemas.component import EmbeddedImageScanComponentSchema
from schemas.message import ProtoSchema
from schemas.metadata import DataSourceSchema


class ImageScanSchema(ProtoSchema):
    """storage.ImageScan; ``hash`` (uint64 string) is the oneof ``hashoneof``."""

    scannerVersion = ProtoString()
    scanTime = Timestamp()
    components = Repeated(Message(EmbeddedImageScanComponentSchema))
    operatingSystem = ProtoString()
    dataSource = Message(DataSourceSchema)
    notes = Repeated(Enum(enums.IMAGE_SCAN_NOTE))
    hash = UInt64(oneof=True)
