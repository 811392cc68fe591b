"""The one field registry: search label → kind, level, query path, sort path and index."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from storage.query.enums import (
    LAYER_TYPE,
    SOURCE_TYPE,
    VULNERABILITY_SEVERITY,
    VULNERABILITY_STATE,
    EnumTable,
)
from storage.query.errors import InvalidQuery

SEARCH = "_search"
PAIRS = "_search.pairs"
LAYERS = "_search.layers"
LABELS = "_search.labels"


class Kind(enum.Enum):
    """How a field's values are parsed and matched."""

    STRING = "string"
    STRINGS = "string array"
    MAP = "map"
    BOOL = "bool"
    NUMBER = "number"
    DATE = "date"
    ENUM = "enum"


class Level(enum.Enum):
    """Where a field lives: on the image, on a (component, vulnerability) pair, or on a layer."""

    IMAGE = "image"
    COMPONENT = "component"
    CVE = "cve"
    LAYER = "layer"


@dataclass(frozen=True)
class Field:
    """One searchable label.

    ``path`` is absolute for image-level fields and relative to the array element for joined
    (component, CVE, layer) fields. ``sort_path`` is the image-level wire path used for sorting
    (None: derived for joined fields, or not sortable when ``sortable`` is False).
    """

    label: str
    kind: Kind
    level: Level
    path: str
    sort_path: str | None = None
    sortable: bool = True
    nullable: bool = False
    sort_inverted: bool = False
    ranked: bool = False
    index: str | None = None
    enum: EnumTable | None = None

    @property
    def array(self) -> str | None:
        """The flat array holding joined rows, None for image-level fields."""
        if self.level in (Level.COMPONENT, Level.CVE):
            return PAIRS
        if self.level is Level.LAYER:
            return LAYERS
        return None

    @property
    def full_path(self) -> str:
        """Absolute document path of the queried value."""
        return f"{self.array}.{self.path}" if self.array else self.path

    @property
    def index_path(self) -> str:
        """The path an index on this field covers."""
        return f"{self.path}.k" if self.kind is Kind.MAP else self.full_path


def _img(
    label: str,
    kind: Kind,
    path: str,
    sort_path: str | None,
    *,
    sortable: bool = True,
    nullable: bool = False,
    sort_inverted: bool = False,
    ranked: bool = False,
    index: str | None = None,
) -> Field:
    return Field(
        label,
        kind,
        Level.IMAGE,
        path,
        sort_path,
        sortable=sortable,
        nullable=nullable,
        sort_inverted=sort_inverted,
        ranked=ranked,
        index=index,
    )


def _comp(
    label: str, kind: Kind, key: str, *, index: str | None = None, enum: EnumTable | None = None
) -> Field:
    return Field(label, kind, Level.COMPONENT, key, index=index, enum=enum)


def _cve(
    label: str, kind: Kind, key: str, *, index: str | None = None, enum: EnumTable | None = None
) -> Field:
    return Field(label, kind, Level.CVE, key, index=index, enum=enum)


S, A, M, B, N, D, E = (
    Kind.STRING,
    Kind.STRINGS,
    Kind.MAP,
    Kind.BOOL,
    Kind.NUMBER,
    Kind.DATE,
    Kind.ENUM,
)

IMAGE_RISK_PRIORITY = "Image Risk Priority"

_FIELDS: tuple[Field, ...] = (
    # Image table.
    _img("Image", S, "_search.full", "name.fullName", index="idx_full"),
    _img("Image Registry", S, "_search.registry", "name.registry", index="idx_registry"),
    _img("Image Remote", S, "_search.remote", "name.remote", index="idx_remote"),
    _img("Image Tag", S, "_search.tag", "name.tag", index="idx_tag"),
    _img("Image Sha", S, "_search.sha", "_id", index="idx_sha"),
    _img(
        "Image Created Time",
        D,
        "metadata.v1.created",
        "metadata.v1.created",
        nullable=True,
        index="idx_created",
    ),
    _img("Image User", S, "_search.user", "metadata.v1.user"),
    _img("Image Command", A, "_search.cmd", "metadata.v1.command"),
    _img("Image Entrypoint", A, "_search.ep", "metadata.v1.entrypoint"),
    _img("Image Volumes", A, "_search.vol", "metadata.v1.volumes"),
    _img("Image Label", M, LABELS, None, sortable=False, index="idx_label_key"),
    Field("Dockerfile Instruction Keyword", S, Level.LAYER, "ins"),
    Field("Dockerfile Instruction Value", S, Level.LAYER, "val"),
    _img(
        "Image Scan Time", D, "scan.scanTime", "scan.scanTime", nullable=True, index="idx_scan_time"
    ),
    _img("Image OS", S, "_search.os", "scan.operatingSystem", index="idx_os"),
    _img(
        "Image Signature Fetched Time", D, "signature.fetched", "signature.fetched", nullable=True
    ),
    _img("Component Count", N, "components", "components", nullable=True),
    _img("Image CVE Count", N, "cves", "cves", nullable=True, index="idx_cves"),
    _img("Fixable CVE Count", N, "fixableCves", "fixableCves", nullable=True),
    _img("Last Updated", D, "lastUpdated", "lastUpdated", index="idx_last_updated"),
    # Not stored: a live dense rank of riskScore; queries and sorts are rewritten onto riskScore.
    _img(IMAGE_RISK_PRIORITY, N, "riskScore", "riskScore", sort_inverted=True, ranked=True),
    _img("Image Risk Score", N, "riskScore", "riskScore", index="idx_risk_score"),
    _img("Image Top CVSS", N, "topCvss", "topCvss", nullable=True, index="idx_top_cvss"),
    # Component table (one pair per component × vulnerability, see search_doc).
    _comp("Component", S, "c", index="idx_pair_component"),
    _comp("Component Version", S, "cv"),
    _comp("Component Source", E, "cs", enum=SOURCE_TYPE),
    _comp("Component Top CVSS", N, "ctc"),
    _comp("Component Risk Score", N, "crs"),
    _comp("Component Risk Priority", N, "cp"),
    _comp("Component Location", S, "cl"),
    # Upstream copies the image OS onto each component; it is image-level here.
    _img("Operating System", S, "_search.os", "scan.operatingSystem"),
    _comp("Component Layer Type", E, "lt", enum=LAYER_TYPE),
    _comp("Component ID", S, "cid"),
    # CVE table.
    _cve("CVE", S, "cve", index="idx_pair_cve"),
    _cve("CVSS", N, "cvss"),
    _cve("Severity", E, "sev", enum=VULNERABILITY_SEVERITY),
    _cve("Fixable", B, "fix"),
    _cve("Fixed By", S, "fb"),
    _cve("Vulnerability State", E, "st", enum=VULNERABILITY_STATE),
    _cve("Impact Score", N, "imp"),
    _cve("NVD CVSS", N, "nvd"),
    _cve("CVE Published On", D, "pub"),
    _cve("CVE Created Time", D, "crt"),
    _cve("First Image Occurrence Timestamp", D, "fio"),
    _cve("CVE Fix Available Timestamp", D, "fat"),
    _cve("EPSS Probability", N, "epss"),
    _cve("CISA KEV", B, "kev"),
    _cve("Advisory Name", S, "an"),
    _cve("Advisory Link", S, "al"),
    _cve("CVE ID", S, "vid"),
    _cve("CVE Snoozed", B, "snz"),
)

FIELDS: Mapping[str, Field] = {f.label.lower(): f for f in _FIELDS}

# Labels that mean "used by a deployment with …"; this service keeps no deployment inventory.
DEPLOYMENT_LABELS: frozenset[str] = frozenset(
    label.lower()
    for label in (
        "Cluster", "Cluster ID", "Namespace", "Namespace ID", "Deployment", "Deployment ID",
        "Deployment Label", "Deployment Annotation", "Deployment Type", "Namespace Label",
        "Namespace Annotation", "Cluster Label", "Cluster Type", "Cluster Platform Type",
        "Cluster Kubernetes Version", "Orchestrator Component", "Platform Component",
        "Image Pull Secret", "Service Account", "Container Type", "Privileged", "Port",
        "Exposure Level",
    )
)  # fmt: skip


def valid_labels() -> str:
    """All labels, sorted, comma-separated (for error messages)."""
    return ", ".join(sorted(f.label for f in _FIELDS))


def lookup(label: str, *, what: str = "search field") -> Field:
    """Resolve a label case-insensitively.

    Raises:
        InvalidQuery: unknown label, or a deployment-context label.
    """
    key = label.lower()
    field = FIELDS.get(key)
    if field is not None:
        return field
    if key in DEPLOYMENT_LABELS:
        raise InvalidQuery(f'{what} "{label}" is not supported: no deployment inventory')
    raise InvalidQuery(f'unknown {what} "{label}": valid fields are {valid_labels()}')


def all_fields() -> tuple[Field, ...]:
    """Every registered field, in registry order."""
    return _FIELDS
