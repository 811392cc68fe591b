"""apk's installed database: single-letter `K:value` lines, blank-line-separated stanzas."""

from __future__ import annotations

from app.scanner.layers.findings import PackageRecord

_KEPT = frozenset("PVoLA")


def parse_apk_installed(text: str) -> tuple[PackageRecord, ...]:
    """P name, V version, o origin (the source name; defaults to the name), L license, A arch."""
    records: list[PackageRecord] = []
    fields: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if fields.get("P") and fields.get("V"):
                records.append(
                    PackageRecord(
                        kind="apk",
                        name=fields["P"],
                        version=fields["V"],
                        source_name=fields.get("o") or fields["P"],
                        license=fields.get("L", ""),
                        arch=fields.get("A", ""),
                    )
                )
            fields = {}
        elif line[1:2] == ":" and line[0] in _KEPT:
            fields[line[0]] = line[2:].strip()
    return tuple(records)
