"""The keys of the ``_search`` sub-document, each named once with what it holds.

``build_search_doc`` writes these keys and the field registry queries, sorts and indexes them.
The string values are the stored layout: existing databases and index definitions depend on
them, so a Python name may change but a value never does. Strings are stored lower-cased; in
the flat rows (labels, layers, pairs) a string's original spelling is stored next to it under
``original_key(key)``, only where it differs from the lower-cased copy, and listed under
``ORIGINALS`` (exact matches compare it).
"""

from __future__ import annotations

import enum

SEARCH = "_search"
# The version of the derived copies' layout (`_search`, `_sort`), stored on every document under
# LAYOUT; bumped whenever what they hold changes, so that start-up rebuilds older documents.
LAYOUT = "_layout"
# 2: flat rows keep strings' original spelling for exact matches; 3: row dates in epoch
# milliseconds; 4: image dates copied as epoch milliseconds; 5: CVE counts by severity
# (`_severities`, storage.documents)
LAYOUT_VERSION = 5


class ImageKey(enum.StrEnum):
    """Image-level keys: ``_search.<key>``."""

    FULL_NAME = "full"  # name.fullName
    REGISTRY = "registry"  # name.registry
    REMOTE = "remote"  # name.remote
    TAG = "tag"  # name.tag
    SHA = "sha"  # the digest (`_id`); also the sort tie-breaker
    USER = "user"  # metadata.v1.user
    OS = "os"  # scan.operatingSystem
    # Dates in epoch milliseconds (nx-27017: it compares stored dates at whole seconds; MongoDB
    # would compare the wire fields themselves to the millisecond).
    CREATED = "created"  # metadata.v1.created
    SCANNED = "scanned"  # scan.scanTime
    SIGNATURE_FETCHED = "sigFetched"  # signature.fetched
    LAST_UPDATED = "updated"  # lastUpdated
    COMMAND = "cmd"  # metadata.v1.command, one string per element
    ENTRYPOINT = "ep"  # metadata.v1.entrypoint
    VOLUMES = "vol"  # metadata.v1.volumes
    LABELS = "labels"  # metadata.v1.labels as [{k, v}] (label keys may hold dots)
    LAYERS = "layers"  # one row per metadata.v1.layers entry, see LayerKey
    PAIRS = "pairs"  # one row per (component, vulnerability), see ComponentKey and VulnKey

    @property
    def path(self) -> str:
        """The absolute document path, ``_search.<key>``."""
        return f"{SEARCH}.{self.value}"


class LabelKey(enum.StrEnum):
    """Keys of one ``_search.labels`` entry."""

    KEY = "k"  # the label's key
    VALUE = "v"  # the label's value


class LayerKey(enum.StrEnum):
    """Keys of one ``_search.layers`` row."""

    INSTRUCTION = "ins"  # the Dockerfile instruction keyword
    VALUE = "val"  # its argument


class ComponentKey(enum.StrEnum):
    """Component keys of one ``_search.pairs`` row."""

    NAME = "c"
    VERSION = "cv"
    SOURCE = "cs"  # SourceType number
    TOP_CVSS = "ctc"  # highest CVSS among the component's vulnerabilities
    RISK_SCORE = "crs"
    PRIORITY = "cp"  # the component's risk priority as stored
    LOCATION = "cl"
    LAYER_TYPE = "lt"  # LayerType number: in the base image's layers or not
    ID = "cid"  # name#version#architecture, what tells components apart


# On every ``_search.pairs`` row: True when it carries a vulnerability, False on a component alone.
HAS_VULN = "v"


class VulnKey(enum.StrEnum):
    """Vulnerability keys of one ``_search.pairs`` row (all None on a component alone)."""

    CVE = "cve"
    CVSS = "cvss"
    SEVERITY = "sev"  # VulnerabilitySeverity number
    FIXABLE = "fix"  # True when fixedBy is set
    FIXED_BY = "fb"
    STATE = "st"  # VulnerabilityState number
    IMPACT = "imp"  # impact score of CVSS v3, else v2
    NVD_CVSS = "nvd"  # score of the NVD entry in cvssMetrics
    PUBLISHED = "pub"
    CREATED = "crt"  # firstSystemOccurrence
    FIRST_IMAGE_OCCURRENCE = "fio"
    FIX_AVAILABLE = "fat"  # fixAvailableTimestamp
    EPSS = "epss"  # EPSS probability
    KEV = "kev"  # in CISA's known-exploited list
    ADVISORY_NAME = "an"
    ADVISORY_LINK = "al"
    ID = "vid"  # cve#component#version
    SNOOZED = "snz"  # suppressed, or in a state other than OBSERVED


# The suffix of the key holding a row string's original spelling (see the module docstring).
_ORIGINAL_SUFFIX = "_o"
# On every flat row: the keys whose original is stored, each followed by "," after a leading ","
# (",cve,vid,"), or "" when none is. So "no original stored" is a regex test on a present value.
# nx-27017: `$exists` inside `$elemMatch` answers wrongly once the `$elemMatch` is under `$or` or
# `$and`; MongoDB would take `{original_key(key): {"$exists": False}}` without this list.
ORIGINALS = "o"


def original_key(key: str) -> str:
    """The row key holding the original spelling of the lower-cased string under ``key``."""
    return f"{key}{_ORIGINAL_SUFFIX}"


PAIRS = ImageKey.PAIRS.path
LAYERS = ImageKey.LAYERS.path
LABELS = ImageKey.LABELS.path
