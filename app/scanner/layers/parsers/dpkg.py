"""dpkg's status database, distroless's one-stanza-per-file status.d, and the file lists."""

from __future__ import annotations

import posixpath

from app.scanner.layers.findings import PackageRecord
from app.scanner.layers.parsers.stanzas import iter_stanzas

# the package's files are gone in these states; every other state leaves (some of) them on disk
_ABSENT_STATES = frozenset({"not-installed", "config-files"})


def parse_dpkg_status(text: str) -> tuple[PackageRecord, ...]:
    """Packages whose files are on disk; a stanza without Status (status.d) counts as installed."""
    records: list[PackageRecord] = []
    for fields in iter_stanzas(text):
        name, version = fields.get("package", ""), fields.get("version", "")
        if not name or not version:
            continue
        status = fields.get("status", "").split()
        if status and status[-1] in _ABSENT_STATES:
            continue
        source_name, source_version = _source(fields.get("source", ""), name)
        records.append(
            PackageRecord(
                kind="dpkg",
                name=name,
                version=version,
                source_name=source_name,
                source_version="" if source_version == version else source_version,
                arch=fields.get("architecture", ""),
            )
        )
    return tuple(records)


def _source(field: str, name: str) -> tuple[str, str]:
    """`gcc-12 (12.2.0-14)` → ("gcc-12", "12.2.0-14"); no Source field → the package itself."""
    source, _, rest = field.partition(" ")
    rest = rest.strip()
    version = rest[1:-1].strip() if rest.startswith("(") and rest.endswith(")") else ""
    return source or name, version


def parse_dpkg_file_list(text: str, *, md5sums: bool) -> frozenset[str]:
    """The paths a package installed: `info/<package>.list` holds one absolute path per line;
    `status.d/<package>.md5sums` one `<md5>  <path relative to the root>` per line."""
    paths: set[str] = set()
    for line in text.splitlines():
        if md5sums:
            _, _, line = line.partition("  ")
        line = line.strip()
        if line:
            path = posixpath.normpath("/" + line).lstrip("/")
            if path:
                paths.add(path)
    return frozenset(paths)
