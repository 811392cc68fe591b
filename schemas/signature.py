"""Signature messages: ImageSignature, Signature, CosignSignature and verification results."""

from __future__ import annotations

from schemas import enums
from schemas.base import Bytes, Enum, Message, ProtoString, Repeated, Timestamp
from schemas.message import ProtoSchema


class CosignSignatureSchema(ProtoSchema):
    """storage.CosignSignature; the ``bytes`` fields are base64 strings."""

    rawSignature = Bytes()
    signaturePayload = Bytes()
    certPem = Bytes()
    certChainPem = Bytes()
    rekorBundle = Bytes()
    signatureFormat = Enum(enums.SIGNATURE_FORMAT)
    sigstoreBundle = Bytes()


class SignatureSchema(ProtoSchema):
    """storage.Signature; ``cosign`` is the only member of the oneof ``Signature``."""

    cosign = Message(CosignSignatureSchema, oneof=True)


class ImageSignatureSchema(ProtoSchema):
    """storage.ImageSignature."""

    signatures = Repeated(Message(SignatureSchema))
    fetched = Timestamp()


class ImageSignatureVerificationResultSchema(ProtoSchema):
    """storage.ImageSignatureVerificationResult."""

    verificationTime = Timestamp()
    verifierId = ProtoString()
    status = Enum(enums.VERIFICATION_STATUS)
    description = ProtoString()
    verifiedImageReferences = Repeated(ProtoString())
    verifierName = ProtoString()


class ImageSignatureVerificationDataSchema(ProtoSchema):
    """storage.ImageSignatureVerificationData."""

    results = Repeated(Message(ImageSignatureVerificationResultSchema))
