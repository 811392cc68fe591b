"""RFC 822-style stanzas, as in dpkg status files and Python core metadata."""

from __future__ import annotations

from collections.abc import Iterator


def iter_stanzas(text: str) -> Iterator[dict[str, str]]:
    """Yield each blank-line-separated stanza as {lowercased key: value}.

    A line starting with a space or tab continues the previous field; continuation lines are
    joined with newlines, stripped. Lines that are neither fields nor continuations are skipped.
    """
    fields: dict[str, str] = {}
    key: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, key = {}, None
        elif line[0] in " \t":
            if key is not None:
                fields[key] += "\n" + line.strip()
        else:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                fields[key] = value.strip()
    if fields:
        yield fields


def read_headers(text: str) -> dict[str, str]:
    """The first stanza only: the header block of a METADATA / PKG-INFO file."""
    return next(iter_stanzas(text), {})
