"""Response messages of the ten endpoints (the image itself is schemas.image.ImageSchema)."""

from __future__ import annotations

from schemas import enums
from schemas.base import (
    Enum,
    Float32,
    Int32,
    Message,
    ProtoBool,
    ProtoString,
    Repeated,
    Timestamp,
    UInt32,
)
from schemas.errors import RpcStatus
from schemas.image import ImageSchema, ListImageSchema
from schemas.message import ProtoSchema


class Empty(ProtoSchema):
    """v1.Empty: ``{}``."""


class CountImagesResponse(ProtoSchema):
    """v1.CountImagesResponse."""

    count = Int32()


class ListImagesResponse(ProtoSchema):
    """v1.ListImagesResponse."""

    images = Repeated(Message(ListImageSchema))


class CvesBySeverity(ProtoSchema):
    """Distinct CVEs of an image by severity, each counted once at its highest."""

    critical = Int32()
    important = Int32()
    moderate = Int32()
    low = Int32()
    unknown = Int32()


class ScanSummary(ProtoSchema):
    """Extension of a ListImage, with ``scanSummary=true``: what the console's table shows."""

    operatingSystem = ProtoString()
    scanTime = Timestamp()
    topCvss = Float32()
    cvesBySeverity = Message(CvesBySeverity)


class ListImageWithSummary(ListImageSchema):
    """storage.ListImage plus ``scanSummary`` when asked for."""

    scanSummary = Message(ScanSummary)


class ListImagesPage(ProtoSchema):
    """v1.ListImagesResponse plus ``nextCursor`` (an extension), present when the page is full."""

    images = Repeated(Message(ListImageWithSummary))

    nextCursor = ProtoString(
        metadata={
            "description": "extension: send as pagination.cursor for the page after this one; "
            "absent when there is none"
        }
    )


class DeleteImagesResponse(ProtoSchema):
    """v1.DeleteImagesResponse; ``numDeleted`` is a uint32 (the swagger says int64), a number."""

    numDeleted = UInt32(metadata={"format": "int64"})
    dryRun = ProtoBool()


class ExportImageResponse(ProtoSchema):
    """v1.ExportImageResponse: one image of the export stream."""

    image = Message(ImageSchema)


class ExportStreamLine(ProtoSchema):
    """One NDJSON line of GET /v1/export/images: ``{"result": …}`` or, last, ``{"error": …}``."""

    result = Message(ExportImageResponse, oneof=True)
    error = Message(RpcStatus, oneof=True)


class WatchImageResponse(ProtoSchema):
    """v1.WatchImageResponse; ``errorMessage`` is set only when ``errorType`` is not NO_ERROR."""

    normalizedName = ProtoString()
    errorType = Enum(enums.WATCH_ERROR_TYPE)
    errorMessage = ProtoString()


class WatchedImage(ProtoSchema):
    """storage.WatchedImage: a watched, normalized image name."""

    name = ProtoString()


class WatchedImageStatus(WatchedImage):
    """A watched name plus our additions: last check time, digest found, last error."""

    lastChecked = Timestamp()
    digest = ProtoString()
    error = ProtoString()


class GetWatchedImagesResponse(ProtoSchema):
    """v1.GetWatchedImagesResponse; entries carry the WatchedImageStatus additions."""

    watchedImages = Repeated(Message(WatchedImageStatus))
