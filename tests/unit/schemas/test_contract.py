"""Every schema declares exactly the fields, types and enum values of its swagger definition."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, fields

from schemas import base, component, enums, errors, metadata, requests, responses, scan, signature
from schemas import image as image_mod
from schemas import vulnerability as vuln_mod
from tests.support.swagger import ONEOF_MEMBERS, _definitions

PAIRS: dict[str, type[Schema]] = {
    "storageImage": image_mod.ImageSchema,
    "storageListImage": image_mod.ListImageSchema,
    "storageImageName": image_mod.ImageNameSchema,
    "storageBaseImageInfo": image_mod.BaseImageInfoSchema,
    "storageImageMetadata": metadata.ImageMetadataSchema,
    "storageV1Metadata": metadata.V1MetadataSchema,
    "storageV2Metadata": metadata.V2MetadataSchema,
    "storageImageLayer": metadata.ImageLayerSchema,
    "storageDataSource": metadata.DataSourceSchema,
    "storageImageScan": scan.ImageScanSchema,
    "storageEmbeddedImageScanComponent": component.EmbeddedImageScanComponentSchema,
    "storageLicense": component.LicenseSchema,
    "storageEmbeddedImageScanComponentExecutable": component.ExecutableSchema,
    "storageEmbeddedVulnerability": vuln_mod.EmbeddedVulnerabilitySchema,
    "storageAdvisory": vuln_mod.AdvisorySchema,
    "storageCVSSV2": vuln_mod.CVSSV2Schema,
    "storageCVSSV3": vuln_mod.CVSSV3Schema,
    "storageCVSSScore": vuln_mod.CVSSScoreSchema,
    "storageEPSS": vuln_mod.EPSSSchema,
    "storageExploit": vuln_mod.ExploitSchema,
    "storageImageSignature": signature.ImageSignatureSchema,
    "storageSignature": signature.SignatureSchema,
    "storageCosignSignature": signature.CosignSignatureSchema,
    "storageImageSignatureVerificationData": signature.ImageSignatureVerificationDataSchema,
    "storageImageSignatureVerificationResult": signature.ImageSignatureVerificationResultSchema,
    "storageWatchedImage": responses.WatchedImage,
    "v1Empty": responses.Empty,
    "v1CountImagesResponse": responses.CountImagesResponse,
    "v1ListImagesResponse": responses.ListImagesResponse,
    "v1DeleteImagesResponse": responses.DeleteImagesResponse,
    "v1ExportImageResponse": responses.ExportImageResponse,
    "v1WatchImageResponse": responses.WatchImageResponse,
    "v1GetWatchedImagesResponse": responses.GetWatchedImagesResponse,
    "v1ScanImageRequest": requests.ScanImageRequest,
    "v1WatchImageRequest": requests.WatchImageRequest,
    "googleRpcStatus": errors.RpcStatus,
}


def _wire_keys(schema: Schema) -> dict[str, fields.Field]:
    return {f.data_key or name: f for name, f in schema.fields.items()}


def _swagger_type(field: fields.Field) -> dict[str, Any]:
    """The swagger property a field must correspond to (refs compared by target name)."""
    if isinstance(field, base.Message):
        return {"ref": type(field.schema).__name__}
    if isinstance(field, base.Repeated):
        return {"type": "array", "items": _swagger_type(field.inner)}
    if isinstance(field, base.Enum):
        return {"enum": field.enum.name}
    simple: list[tuple[type[fields.Field], dict[str, Any]]] = [
        (base.Timestamp, {"type": "string", "format": "date-time"}),
        (base.UInt64, {"type": "string", "format": "uint64"}),
        (base.Int64, {"type": "string", "format": "int64"}),
        (base.Bytes, {"type": "string", "format": "byte"}),
        (base.StringMap, {"type": "object", "additionalProperties": {"type": "string"}}),
        (base.UInt32, {"type": "integer", "format": "int64"}),  # grpc-gateway's uint32
        (base.Int32, {"type": "integer", "format": "int32"}),
        (base.Float32, {"type": "number", "format": "float"}),
        (base.ProtoBool, {"type": "boolean"}),
        (base.ProtoString, {"type": "string"}),
        (base.AnyObject, {"ref": "protobufAny"}),
    ]
    for cls, spec in simple:
        if isinstance(field, cls):
            return spec
    raise AssertionError(f"unmapped field {field!r}")


def _expected(prop: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        target = prop["$ref"].rsplit("/", 1)[-1]
        if _definitions()[target].get("type") == "string":
            return {"enum": target}
        return {"ref": target}
    if prop.get("type") == "array":
        return {"type": "array", "items": _expected(prop["items"])}
    return {k: v for k, v in prop.items() if k in ("type", "format", "additionalProperties")}


@pytest.mark.parametrize("definition", sorted(PAIRS))
def test_fields_match_the_swagger(definition: str) -> None:
    schema = PAIRS[definition]()
    declared = _wire_keys(schema)
    properties = _definitions()[definition].get("properties", {})
    assert set(declared) == set(properties)
    names = {cls.__name__: name for name, cls in PAIRS.items()}
    names["WatchedImageStatus"] = "storageWatchedImage"  # our superset of WatchedImage
    for key, field in declared.items():
        got = _swagger_type(field)
        if "ref" in got:
            got = {"ref": names.get(got["ref"], got["ref"])}
        if got.get("items", {}).get("ref"):
            got = {**got, "items": {"ref": names.get(got["items"]["ref"], got["items"]["ref"])}}
        assert got == _expected(properties[key]), key


@pytest.mark.parametrize("definition", sorted(PAIRS))
def test_oneof_members_are_the_known_ones(definition: str) -> None:
    fields_ = PAIRS[definition]().fields.values()
    oneofs = {f.data_key or f.name for f in fields_ if getattr(f, "oneof", False)}
    assert oneofs == set(ONEOF_MEMBERS.get(definition, ()))


@pytest.mark.parametrize("enum", enums.ALL_ENUMS, ids=lambda e: e.name)
def test_enum_values_match_the_swagger(enum: enums.ProtoEnum) -> None:
    definition = _definitions()[enum.name]
    assert list(enum.names) == definition["enum"]
    assert enum.default == definition["default"]
    assert enum.numbers[enum.default] == 0


def test_source_type_numbers_follow_the_proto() -> None:
    assert enums.SOURCE_TYPE.convert(7) == "GO"
    assert enums.SOURCE_TYPE.convert(5) == "DOTNETCORERUNTIME"


def test_request_enum_parameter_matches_the_swagger() -> None:
    field = requests.RawQueryParams().fields["aggr_func"]
    assert field.metadata["enum"] == _definitions()["v1Aggregation"]["enum"]
