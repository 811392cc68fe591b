"""Python core metadata: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, bare `*.egg-info` files."""

from __future__ import annotations

import re

from app.scanner.layers.findings import PackageRecord
from app.scanner.layers.parsers.stanzas import read_headers

_SEPARATORS = re.compile(r"[-_.]+")


def normalize_python_name(name: str) -> str:
    """PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`."""
    return _SEPARATORS.sub("-", name).lower()


def parse_python_metadata(text: str) -> tuple[PackageRecord, ...]:
    """The distribution named in the headers; none when Name or Version is missing."""
    headers = read_headers(text)
    name, version = headers.get("name", ""), headers.get("version", "")
    if not name or not version:
        return ()
    license_ = headers.get("license-expression") or headers.get("license", "")
    # License sometimes carries the whole license text: keep its first line
    license_ = license_.split("\n", 1)[0].strip()
    if license_.upper() == "UNKNOWN":
        license_ = ""
    record = PackageRecord(
        kind="python",
        name=name,
        version=version,
        source_name=normalize_python_name(name),
        license=license_,
    )
    return (record,)
