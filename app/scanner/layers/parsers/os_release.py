"""os-release(5): shell-style KEY=value assignments."""

from __future__ import annotations

import re
import shlex

from app.scanner.model import OperatingSystem

_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)")


def parse_os_release(text: str) -> OperatingSystem:
    """Read ID, VERSION_ID, PRETTY_NAME and VERSION_CODENAME.

    Raises:
        ValueError: none of ID, VERSION_ID, PRETTY_NAME is set.
    """
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(line)
        if match:
            values[match[1]] = _unquote(match[2])
    if not any(values.get(key) for key in ("ID", "VERSION_ID", "PRETTY_NAME")):
        raise ValueError("no ID, VERSION_ID or PRETTY_NAME")
    return OperatingSystem(
        # the spec's default when ID is missing
        id=values.get("ID") or "linux",
        version_id=values.get("VERSION_ID", ""),
        pretty_name=values.get("PRETTY_NAME", ""),
        version_codename=values.get("VERSION_CODENAME", ""),
    )


def _unquote(value: str) -> str:
    try:
        return " ".join(shlex.split(value, comments=True))
    except ValueError:  # an unbalanced quote: keep what is there
        return value.strip().strip("\"'")
