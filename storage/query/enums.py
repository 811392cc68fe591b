"""Enum name/number tables of the storage protos used by search and by the search document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class EnumTable:
    """One proto enum: its names in declaration order and their numbers."""

    name: str
    numbers: Mapping[str, int]

    def number(self, value: object) -> int | None:
        """Return the number of a name or of a number (as stored), None when unknown."""
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value if value in self.numbers.values() else None
        if isinstance(value, str):
            if value.isdigit():
                return self.number(int(value))
            return self.numbers.get(value.upper())
        return None

    def lower_names(self) -> dict[str, int]:
        """Names lower-cased (search compares names case-insensitively) → numbers."""
        return {name.lower(): num for name, num in self.numbers.items()}


SOURCE_TYPE = EnumTable(
    "SourceType",
    {
        "OS": 0,
        "PYTHON": 1,
        "JAVA": 2,
        "RUBY": 3,
        "NODEJS": 4,
        "DOTNETCORERUNTIME": 5,
        "INFRASTRUCTURE": 6,
        "GO": 7,
    },
)

VULNERABILITY_SEVERITY = EnumTable(
    "VulnerabilitySeverity",
    {
        "UNKNOWN_VULNERABILITY_SEVERITY": 0,
        "LOW_VULNERABILITY_SEVERITY": 1,
        "MODERATE_VULNERABILITY_SEVERITY": 2,
        "IMPORTANT_VULNERABILITY_SEVERITY": 3,
        "CRITICAL_VULNERABILITY_SEVERITY": 4,
    },
)

VULNERABILITY_STATE = EnumTable(
    "VulnerabilityState",
    {"OBSERVED": 0, "DEFERRED": 1, "FALSE_POSITIVE": 2},
)

# Not in the REST swagger (no wire field carries it): "Component Layer Type" is derived from the
# component's layerIndex and the image's baseImageInfo. Numbering follows declaration order.
LAYER_TYPE = EnumTable("LayerType", {"APPLICATION": 0, "BASE_IMAGE": 1})

# storage.Source of a CVSSScore entry in cvssMetrics[].
CVSS_SOURCE = EnumTable(
    "Source",
    {"SOURCE_UNKNOWN": 0, "SOURCE_RED_HAT": 1, "SOURCE_OSV": 2, "SOURCE_NVD": 3},
)

OBSERVED = VULNERABILITY_STATE.numbers["OBSERVED"]
APPLICATION = LAYER_TYPE.numbers["APPLICATION"]
BASE_IMAGE = LAYER_TYPE.numbers["BASE_IMAGE"]
SOURCE_NVD = CVSS_SOURCE.numbers["SOURCE_NVD"]
