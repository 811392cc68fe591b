"""The one field registry: search label → kind, level, query path, sort path and index."""

from __future__ import annotations

import enum
import functools
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
from storage.query.search_keys import (
    LAYERS,
    PAIRS,
    ComponentKey,
    ImageKey,
    LabelKey,
    LayerKey,
    VulnKey,
    original_key,
)


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
    (None: derived for joined fields, or not sortable when ``sortable`` is False). ``original``
    is where a string field's original spelling is, for exact matches: a wire path on the
    image, or the row key that holds it where it differs from the lower-cased copy.
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
    original: str | None = None

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
        return f"{self.path}.{LabelKey.KEY}" if self.kind is Kind.MAP else self.full_path


def _image(
    label: str,
    kind: Kind,
    *,
    query: ImageKey | str,
    sort: str | None = None,
    sortable: bool = True,
    nullable: bool = False,
    sort_inverted: bool = False,
    ranked: bool = False,
    index: str | None = None,
    original: str | None = None,
) -> Field:
    """An image-level field: ``query`` is the queried path (or its ``_search`` key), ``sort``
    the wire path sorted on (the queried path when omitted), ``original`` a string's wire path."""
    path = query.path if isinstance(query, ImageKey) else query
    return Field(
        label,
        kind,
        Level.IMAGE,
        path,
        sort_path=(sort or path) if sortable else None,
        sortable=sortable,
        nullable=nullable,
        sort_inverted=sort_inverted,
        ranked=ranked,
        index=index,
        original=original,
    )


def _row(
    level: Level,
    label: str,
    kind: Kind,
    *,
    key: ComponentKey | VulnKey | LayerKey,
    index: str | None = None,
    enum: EnumTable | None = None,
) -> Field:
    """A joined field: ``key`` is its key in a row of the level's array."""
    original = original_key(key) if kind is Kind.STRING else None
    return Field(label, kind, level, key, index=index, enum=enum, original=original)


_component = functools.partial(_row, Level.COMPONENT)
_cve = functools.partial(_row, Level.CVE)
_layer = functools.partial(_row, Level.LAYER)

_FIELDS: tuple[Field, ...] = (
    # Image table: strings are queried on their lower-cased `_search` copy (exact matches also on
    # the original), sorted on the value.
    _image("Image", Kind.STRING, query=ImageKey.FULL_NAME, sort="name.fullName", index="idx_full",
           original="name.fullName"),
    _image("Image Registry", Kind.STRING, query=ImageKey.REGISTRY, sort="name.registry",
           index="idx_registry", original="name.registry"),
    _image("Image Remote", Kind.STRING, query=ImageKey.REMOTE, sort="name.remote",
           index="idx_remote", original="name.remote"),
    _image("Image Tag", Kind.STRING, query=ImageKey.TAG, sort="name.tag", index="idx_tag",
           original="name.tag"),
    _image("Image Sha", Kind.STRING, query=ImageKey.SHA, sort="_id", index="idx_sha",
           original="_id"),
    _image("Image Created Time", Kind.DATE, query=ImageKey.CREATED, sort="metadata.v1.created",
           nullable=True, index="idx_created_ms"),
    _image("Image User", Kind.STRING, query=ImageKey.USER, sort="metadata.v1.user",
           original="metadata.v1.user"),
    _image("Image Command", Kind.STRINGS, query=ImageKey.COMMAND, sort="metadata.v1.command",
           original="metadata.v1.command"),
    _image("Image Entrypoint", Kind.STRINGS, query=ImageKey.ENTRYPOINT,
           sort="metadata.v1.entrypoint", original="metadata.v1.entrypoint"),
    _image("Image Volumes", Kind.STRINGS, query=ImageKey.VOLUMES, sort="metadata.v1.volumes",
           original="metadata.v1.volumes"),
    _image("Image Label", Kind.MAP, query=ImageKey.LABELS, sortable=False, index="idx_label_key"),
    _layer("Dockerfile Instruction Keyword", Kind.STRING, key=LayerKey.INSTRUCTION),
    _layer("Dockerfile Instruction Value", Kind.STRING, key=LayerKey.VALUE),
    _image("Image Scan Time", Kind.DATE, query=ImageKey.SCANNED, sort="scan.scanTime",
           nullable=True, index="idx_scan_time_ms"),
    _image("Image OS", Kind.STRING, query=ImageKey.OS, sort="scan.operatingSystem", index="idx_os",
           original="scan.operatingSystem"),
    _image("Image Signature Fetched Time", Kind.DATE, query=ImageKey.SIGNATURE_FETCHED,
           sort="signature.fetched", nullable=True),
    _image("Component Count", Kind.NUMBER, query="components", nullable=True),
    _image("Image CVE Count", Kind.NUMBER, query="cves", nullable=True, index="idx_cves"),
    _image("Fixable CVE Count", Kind.NUMBER, query="fixableCves", nullable=True),
    _image("Last Updated", Kind.DATE, query=ImageKey.LAST_UPDATED, sort="lastUpdated",
           index="idx_updated_ms"),
    # Not stored: a live dense rank of riskScore; queries and sorts are rewritten onto riskScore.
    _image("Image Risk Priority", Kind.NUMBER, query="riskScore", sort_inverted=True, ranked=True),
    _image("Image Risk Score", Kind.NUMBER, query="riskScore", index="idx_risk_score"),
    _image("Image Top CVSS", Kind.NUMBER, query="topCvss", nullable=True, index="idx_top_cvss"),
    # Component table (one pair per component × vulnerability, see search_doc).
    _component("Component", Kind.STRING, key=ComponentKey.NAME, index="idx_pair_component"),
    _component("Component Version", Kind.STRING, key=ComponentKey.VERSION),
    _component("Component Source", Kind.ENUM, key=ComponentKey.SOURCE, enum=SOURCE_TYPE),
    _component("Component Top CVSS", Kind.NUMBER, key=ComponentKey.TOP_CVSS),
    _component("Component Risk Score", Kind.NUMBER, key=ComponentKey.RISK_SCORE),
    _component("Component Risk Priority", Kind.NUMBER, key=ComponentKey.PRIORITY),
    _component("Component Location", Kind.STRING, key=ComponentKey.LOCATION),
    # Upstream copies the image OS onto each component; it is image-level here.
    _image("Operating System", Kind.STRING, query=ImageKey.OS, sort="scan.operatingSystem",
           original="scan.operatingSystem"),
    _component("Component Layer Type", Kind.ENUM, key=ComponentKey.LAYER_TYPE, enum=LAYER_TYPE),
    _component("Component ID", Kind.STRING, key=ComponentKey.ID),
    # CVE table.
    _cve("CVE", Kind.STRING, key=VulnKey.CVE, index="idx_pair_cve"),
    _cve("CVSS", Kind.NUMBER, key=VulnKey.CVSS),
    _cve("Severity", Kind.ENUM, key=VulnKey.SEVERITY, enum=VULNERABILITY_SEVERITY),
    _cve("Vulnerability State", Kind.ENUM, key=VulnKey.STATE, enum=VULNERABILITY_STATE),
    _cve("Fixable", Kind.BOOL, key=VulnKey.FIXABLE),
    _cve("Fixed By", Kind.STRING, key=VulnKey.FIXED_BY),
    _cve("Impact Score", Kind.NUMBER, key=VulnKey.IMPACT),
    _cve("NVD CVSS", Kind.NUMBER, key=VulnKey.NVD_CVSS),
    _cve("CVE Published On", Kind.DATE, key=VulnKey.PUBLISHED),
    _cve("CVE Created Time", Kind.DATE, key=VulnKey.CREATED),
    _cve("First Image Occurrence Timestamp", Kind.DATE, key=VulnKey.FIRST_IMAGE_OCCURRENCE),
    _cve("CVE Fix Available Timestamp", Kind.DATE, key=VulnKey.FIX_AVAILABLE),
    _cve("EPSS Probability", Kind.NUMBER, key=VulnKey.EPSS),
    _cve("CISA KEV", Kind.BOOL, key=VulnKey.KEV),
    _cve("Advisory Name", Kind.STRING, key=VulnKey.ADVISORY_NAME),
    _cve("Advisory Link", Kind.STRING, key=VulnKey.ADVISORY_LINK),
    _cve("CVE ID", Kind.STRING, key=VulnKey.ID),
    _cve("CVE Snoozed", Kind.BOOL, key=VulnKey.SNOOZED),
)  # fmt: skip

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
