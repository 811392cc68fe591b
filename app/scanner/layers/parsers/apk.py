"""apk's installed database: single-letter `K:value` lines, blank-line-separated stanzas."""

from __future__ import annotations

from app.scanner.layers.findings import PackageRecord

_KEPT = frozenset("PVoLA")


def parse_apk_installed(text: str) -> tuple[tuple[PackageRecord, ...], frozenset[str]]:
    """The packages (P name, V version, o origin: the source name, defaulting to the name;
    L license, A arch) and the files they installed (`R:` names under the last `F:` folder)."""
    records: list[PackageRecord] = []
    owned: set[str] = set()
    fields: dict[str, str] = {}
    folder = ""
    for line in [*text.splitlines(), ""]:
        if line.startswith("F:"):
            folder = line[2:].strip().strip("/")
        elif line.startswith("R:"):
            name = line[2:].strip()
            if name:
                owned.add(f"{folder}/{name}" if folder else name)
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
            fields, folder = {}, ""
        elif line[1:2] == ":" and line[0] in _KEPT:
            fields[line[0]] = line[2:].strip()
    return tuple(records), frozenset(owned)
