"""``index_models``: the ``images`` indexes, one per indexed field of the registry, plus sorts."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from storage.query.fields import all_fields
from storage.query.search_keys import LAYOUT
from storage.query.sorting import DEFAULT_SORT, sort_plan

# The common sort options (field, reversed, aggregation, distinct), each with an index on its
# keys in order, tie-breaker last, so that a page of it is a walk of the index from where it
# starts. Ascending: a descending sort walks the same index backwards.
SORTS: dict[str, tuple[str | None, bool, str, bool]] = {
    "idx_s_default": (None, False, "UNSET", False),
    "idx_s_image": ("Image", False, "UNSET", False),
    "idx_s_risk": ("Image Risk Score", False, "UNSET", False),
    "idx_s_top_cvss": ("Image Top CVSS", False, "UNSET", False),
    "idx_s_top_cvss_desc": ("Image Top CVSS", True, "UNSET", False),
    "idx_s_cve_count": ("Image CVE Count", False, "UNSET", False),
    "idx_s_cve_count_desc": ("Image CVE Count", True, "UNSET", False),
    "idx_s_cvss": ("CVSS", False, "UNSET", False),
    "idx_s_cvss_desc": ("CVSS", True, "UNSET", False),
    "idx_s_severity_desc": ("Severity", True, "UNSET", False),
    "idx_s_cves_distinct": ("CVE", False, "COUNT", True),
    "idx_s_components": ("Component", False, "COUNT", False),
}


def _sort_indexes() -> dict[str, list[tuple[str, int]]]:
    indexes = {name: [(path, ASCENDING) for path in sort_plan(*option).paths]
               for name, option in SORTS.items()}  # fmt: skip
    # The export's order, on the wire value.
    indexes["idx_sort_last_updated"] = [(path, ASCENDING) for path, _ in DEFAULT_SORT]
    return indexes


SORT_INDEXES = _sort_indexes()
# Documents not in the current layout, found at start-up to be rebuilt.
LAYOUT_INDEX = "idx_layout"
# Indexes of earlier versions that nothing uses any more (dropped at start-up).
OBSOLETE_INDEXES = ("idx_sort_image", "idx_created", "idx_scan_time", "idx_last_updated")


def index_models() -> list[IndexModel]:
    """Ascending indexes with stable explicit names (``idx_<short>``).

    One per indexed field of the registry (a single-field index serves both directions), plus
    the compound sort indexes above and the layout version's.
    """
    seen: dict[str, str] = {}
    for field in all_fields():
        if field.index is not None and field.index not in seen:
            seen[field.index] = field.index_path
    models = [IndexModel([(path, ASCENDING)], name=name) for name, path in seen.items()]
    models += [IndexModel(keys, name=name) for name, keys in SORT_INDEXES.items()]
    return [*models, IndexModel([(LAYOUT, ASCENDING)], name=LAYOUT_INDEX)]
