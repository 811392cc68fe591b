"""Key spellings: proto JSON names (camelCase) and proto field names (snake_case)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache

from marshmallow import Schema


def snake_case(name: str) -> str:
    """``layerShas`` -> ``layer_shas``, ``cvssV3`` -> ``cvss_v3`` (proto field names)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@cache
def alias_map(schema_cls: type[Schema]) -> dict[str, str]:
    """Accepted alternative key -> wire key, for the fields of ``schema_cls``."""
    out: dict[str, str] = {}
    for name, field in schema_cls().load_fields.items():
        wire = field.data_key or name
        for alias in _spellings(wire):
            if alias != wire:
                out[alias] = wire
    return out


def _spellings(wire: str) -> Iterator[str]:
    """Every per-segment mix of JSON and proto names of a dotted key (grpc-gateway binding)."""
    choices = [dict.fromkeys((seg, snake_case(seg))) for seg in wire.split(".")]
    for combo in itertools.product(*choices):
        yield ".".join(combo)
