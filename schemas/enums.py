"""Proto enums of the Image Service API: names as on the wire, numbers as in the .proto files."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError


class ProtoEnum:
    """A proto enum: loads a name or a number, yields the name (protojson's output form)."""

    __slots__ = ("_lookup", "default", "name", "names", "numbers")

    def __init__(self, name: str, values: tuple[str, ...] | dict[str, int]) -> None:
        pairs = (
            values.items()
            if isinstance(values, dict)
            else zip(values, range(len(values)), strict=True)
        )
        self.name = name
        self.numbers: dict[str, int] = dict(pairs)
        # Declaration order, as the upstream swagger lists the values.
        self.names: tuple[str, ...] = tuple(self.numbers)
        by_number = {number: key for key, number in self.numbers.items()}
        self.default: str = by_number[0]
        self._lookup: dict[Any, str] = {key: key for key in self.names}
        self._lookup.update(by_number)

    def convert(self, value: Any) -> str:
        """Return the name for a name or number; raise ValidationError for anything else."""
        cls = value.__class__
        if cls is str or cls is int:  # not bool, not float: protojson refuses them
            found = self._lookup.get(value)
            if found is not None:
                return found
        raise ValidationError(f"Must be one of: {', '.join(self.names)} (or their numbers).")

    def __repr__(self) -> str:
        return f"ProtoEnum({self.name!r})"


IMAGE_NOTE = ProtoEnum(
    "storageImageNote",
    (
        "MISSING_METADATA",
        "MISSING_SCAN_DATA",
        "MISSING_SIGNATURE",
        "MISSING_SIGNATURE_VERIFICATION_DATA",
    ),
)
IMAGE_SCAN_NOTE = ProtoEnum(
    "storageImageScanNote",
    (
        "UNSET",
        "OS_UNAVAILABLE",
        "PARTIAL_SCAN_DATA",
        "OS_CVES_UNAVAILABLE",
        "OS_CVES_STALE",
        "LANGUAGE_CVES_UNAVAILABLE",
        "CERTIFIED_RHEL_SCAN_UNAVAILABLE",
    ),
)
# Not in number order upstream: GO was appended later with number 7.
SOURCE_TYPE = ProtoEnum(
    "storageSourceType",
    {
        "OS": 0,
        "PYTHON": 1,
        "JAVA": 2,
        "RUBY": 3,
        "NODEJS": 4,
        "GO": 7,
        "DOTNETCORERUNTIME": 5,
        "INFRASTRUCTURE": 6,
    },
)
SCORE_VERSION = ProtoEnum("EmbeddedVulnerabilityScoreVersion", ("V2", "V3"))
VULNERABILITY_TYPE = ProtoEnum(
    "EmbeddedVulnerabilityVulnerabilityType",
    (
        "UNKNOWN_VULNERABILITY",
        "IMAGE_VULNERABILITY",
        "K8S_VULNERABILITY",
        "ISTIO_VULNERABILITY",
        "NODE_VULNERABILITY",
        "OPENSHIFT_VULNERABILITY",
    ),
)
VULNERABILITY_SEVERITY = ProtoEnum(
    "storageVulnerabilitySeverity",
    (
        "UNKNOWN_VULNERABILITY_SEVERITY",
        "LOW_VULNERABILITY_SEVERITY",
        "MODERATE_VULNERABILITY_SEVERITY",
        "IMPORTANT_VULNERABILITY_SEVERITY",
        "CRITICAL_VULNERABILITY_SEVERITY",
    ),
)
VULNERABILITY_STATE = ProtoEnum(
    "storageVulnerabilityState", ("OBSERVED", "DEFERRED", "FALSE_POSITIVE")
)
VULN_ORIGIN = ProtoEnum(
    "storageVulnOrigin",
    (
        "VULN_ORIGIN_OTHER",
        "VULN_ORIGIN_OSV",
        "VULN_ORIGIN_ALPINE",
        "VULN_ORIGIN_AMAZON",
        "VULN_ORIGIN_DEBIAN",
        "VULN_ORIGIN_ORACLE",
        "VULN_ORIGIN_PHOTON",
        "VULN_ORIGIN_RED_HAT",
        "VULN_ORIGIN_SUSE",
        "VULN_ORIGIN_UBUNTU",
    ),
)
CVSS_SOURCE = ProtoEnum(
    "storageSource", ("SOURCE_UNKNOWN", "SOURCE_RED_HAT", "SOURCE_OSV", "SOURCE_NVD")
)

CVSS_V2_ATTACK_VECTOR = ProtoEnum(
    "storageCVSSV2AttackVector", ("ATTACK_LOCAL", "ATTACK_ADJACENT", "ATTACK_NETWORK")
)
CVSS_V2_ACCESS_COMPLEXITY = ProtoEnum(
    "CVSSV2AccessComplexity", ("ACCESS_HIGH", "ACCESS_MEDIUM", "ACCESS_LOW")
)
CVSS_V2_AUTHENTICATION = ProtoEnum(
    "CVSSV2Authentication", ("AUTH_MULTIPLE", "AUTH_SINGLE", "AUTH_NONE")
)
CVSS_V2_IMPACT = ProtoEnum(
    "storageCVSSV2Impact", ("IMPACT_NONE", "IMPACT_PARTIAL", "IMPACT_COMPLETE")
)
CVSS_V2_SEVERITY = ProtoEnum("storageCVSSV2Severity", ("UNKNOWN", "LOW", "MEDIUM", "HIGH"))

CVSS_V3_ATTACK_VECTOR = ProtoEnum(
    "storageCVSSV3AttackVector",
    ("ATTACK_LOCAL", "ATTACK_ADJACENT", "ATTACK_NETWORK", "ATTACK_PHYSICAL"),
)
CVSS_V3_COMPLEXITY = ProtoEnum("CVSSV3Complexity", ("COMPLEXITY_LOW", "COMPLEXITY_HIGH"))
CVSS_V3_PRIVILEGES = ProtoEnum(
    "CVSSV3Privileges", ("PRIVILEGE_NONE", "PRIVILEGE_LOW", "PRIVILEGE_HIGH")
)
CVSS_V3_USER_INTERACTION = ProtoEnum("CVSSV3UserInteraction", ("UI_NONE", "UI_REQUIRED"))
CVSS_V3_SCOPE = ProtoEnum("storageCVSSV3Scope", ("UNCHANGED", "CHANGED"))
CVSS_V3_IMPACT = ProtoEnum("storageCVSSV3Impact", ("IMPACT_NONE", "IMPACT_LOW", "IMPACT_HIGH"))
CVSS_V3_SEVERITY = ProtoEnum(
    "storageCVSSV3Severity", ("UNKNOWN", "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL")
)

SIGNATURE_FORMAT = ProtoEnum(
    "CosignSignatureSignatureFormat",
    ("SIGNATURE_FORMAT_UNSPECIFIED", "SIMPLE_SIGNING", "DEAD_SIMPLE_SIGNING_ENVELOPE"),
)
VERIFICATION_STATUS = ProtoEnum(
    "storageImageSignatureVerificationResultStatus",
    (
        "UNSET",
        "VERIFIED",
        "FAILED_VERIFICATION",
        "INVALID_SIGNATURE_ALGO",
        "CORRUPTED_SIGNATURE",
        "GENERIC_ERROR",
    ),
)

AGGREGATION = ProtoEnum("v1Aggregation", ("UNSET", "COUNT", "MIN", "MAX"))
WATCH_ERROR_TYPE = ProtoEnum(
    "WatchImageResponseErrorType",
    ("NO_ERROR", "INVALID_IMAGE_NAME", "NO_VALID_INTEGRATION", "SCAN_FAILED"),
)

ALL_ENUMS: tuple[ProtoEnum, ...] = tuple(v for v in globals().values() if isinstance(v, ProtoEnum))
