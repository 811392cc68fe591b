"""``index_models``: the ``images`` indexes, one per indexed field of the registry."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from storage.query.fields import all_fields


def index_models() -> list[IndexModel]:
    """Single-field ascending indexes with stable explicit names (``idx_<short>``).

    Single-field only: the local stand-in store cannot index ``_id`` inside a compound index,
    and a single-field index serves both sort directions.
    """
    seen: dict[str, str] = {}
    for field in all_fields():
        if field.index is not None and field.index not in seen:
            seen[field.index] = field.index_path
    return [IndexModel([(path, ASCENDING)], name=name) for name, path in seen.items()]
