"""npm: the package.json at the top of each installed package directory."""

from __future__ import annotations

import json
from typing import Any

from app.scanner.layers.findings import PackageRecord


def parse_package_json(data: bytes) -> tuple[PackageRecord, ...]:
    """The package it describes; none when it lacks a name or version.

    Raises:
        ValueError: not valid JSON, or not a JSON object.
    """
    document = json.loads(data)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    name, version = document.get("name"), document.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        return ()
    record = PackageRecord(
        kind="npm", name=name, version=version, source_name=name, license=_license(document)
    )
    return (record,)


def _license(document: dict[str, Any]) -> str:
    """`license` as a string or {"type": …}; the legacy `licenses` list joined with OR."""
    names = [_license_name(document.get("license"))]
    legacy = document.get("licenses")
    if not names[0] and isinstance(legacy, list):
        names = [_license_name(item) for item in legacy]
    return " OR ".join(name for name in names if name)


def _license_name(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return value["type"].strip()
    return ""
