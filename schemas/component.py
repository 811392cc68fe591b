"""Scan component messages: EmbeddedImageScanComponent, License, Executable."""

from __future__ import annotations

from schemas import enums
from schemas.base import Enum, Float32, Int32, Int64, Message, ProtoString, Repeated
from schemas.message import ProtoSchema
from schemas.vulnerability import EmbeddedVulnerabilitySchema


class LicenseSchema(ProtoSchema):
    """storage.License."""

    name = ProtoString()
    type = ProtoString()
    url = ProtoString()


class ExecutableSchema(ProtoSchema):
    """storage.EmbeddedImageScanComponent.Executable."""

    path = ProtoString()
    dependencies = Repeated(ProtoString())


class EmbeddedImageScanComponentSchema(ProtoSchema):
    """storage.EmbeddedImageScanComponent; ``layerIndex`` and ``topCvss`` are oneofs."""

    name = ProtoString()
    version = ProtoString()
    license = Message(LicenseSchema)
    vulns = Repeated(Message(EmbeddedVulnerabilitySchema))
    layerIndex = Int32(oneof=True)
    priority = Int64()
    source = Enum(enums.SOURCE_TYPE)
    location = ProtoString()
    topCvss = Float32(oneof=True)
    riskScore = Float32()
    fixedBy = ProtoString()
    executables = Repeated(Message(ExecutableSchema))
    architecture = ProtoString()
