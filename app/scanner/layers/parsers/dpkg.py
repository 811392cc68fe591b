"""dpkg's status database, and distroless's one-stanza-per-file status.d."""

from __future__ import annotations

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
