"""JSON rendering of canonical documents (datetimes as RFC 3339 ``Z``) with orjson."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

# Aware datetimes render with "Z"; naive ones (as read back from MongoDB) are taken as UTC.
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def dumps(obj: Any) -> bytes:
    """Render ``obj`` as compact JSON bytes.

    Raises :exc:`orjson.JSONEncodeError` for values JSON cannot hold.
    """
    return orjson.dumps(obj, option=_OPTIONS)


def dumps_line(obj: Any) -> bytes:
    """Render ``obj`` as one NDJSON line (compact JSON and ``\\n``), as the export stream writes."""
    return orjson.dumps(obj, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)


def image_json_bytes(doc: Mapping[str, Any]) -> bytes:
    """Render a canonical image; private top-level keys of the stored form (``_id``, ``_search``…)
    are left out.
    """
    if any(key[:1] == "_" for key in doc):
        doc = {key: value for key, value in doc.items() if key[:1] != "_"}
    return dumps(doc)
