"""``index_models``: the ``images`` indexes, one per indexed field of the registry."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from storage.query.fields import all_fields
from storage.query.sorting import TIE_BREAKER

# Sorts that end in the tie-breaker need it in the index to stream without an in-memory sort:
# the default order (ListImages, ExportImages) and the `Image` rewrite.
SORT_INDEXES = {
    "idx_sort_last_updated": [("lastUpdated", ASCENDING), (TIE_BREAKER, ASCENDING)],
    "idx_sort_image": [
        ("name.registry", ASCENDING),
        ("name.remote", ASCENDING),
        ("name.tag", ASCENDING),
        (TIE_BREAKER, ASCENDING),
    ],
}


def index_models() -> list[IndexModel]:
    """Ascending indexes with stable explicit names (``idx_<short>``).

    One per indexed field of the registry (a single-field index serves both directions), plus
    the compound sort indexes above.
    """
    seen: dict[str, str] = {}
    for field in all_fields():
        if field.index is not None and field.index not in seen:
            seen[field.index] = field.index_path
    models = [IndexModel([(path, ASCENDING)], name=name) for name, path in seen.items()]
    return models + [IndexModel(keys, name=name) for name, keys in SORT_INDEXES.items()]
