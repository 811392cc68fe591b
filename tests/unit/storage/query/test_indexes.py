"""index_models(): indexes derived from the registry, with stable explicit names."""

from __future__ import annotations

import pytest

from storage.query import index_models, sort_plan
from storage.query.fields import all_fields
from storage.query.indexes import SORT_INDEXES, SORTS
from storage.query.sorting import TIE_BREAKER


def test_index_names_and_keys() -> None:
    indexes = {m.document["name"]: dict(m.document["key"]) for m in index_models()}
    assert indexes == {
        "idx_full": {"_search.full": 1},
        "idx_registry": {"_search.registry": 1},
        "idx_remote": {"_search.remote": 1},
        "idx_tag": {"_search.tag": 1},
        "idx_sha": {"_search.sha": 1},
        "idx_os": {"_search.os": 1},
        "idx_label_key": {"_search.labels.k": 1},
        "idx_created_ms": {"_search.created": 1},
        "idx_scan_time_ms": {"_search.scanned": 1},
        "idx_updated_ms": {"_search.updated": 1},
        "idx_cves": {"cves": 1},
        "idx_risk_score": {"riskScore": 1},
        "idx_top_cvss": {"topCvss": 1},
        "idx_pair_component": {"_search.pairs.c": 1},
        "idx_pair_cve": {"_search.pairs.cve": 1},
        "idx_sort_last_updated": {"lastUpdated": 1, "_search.sha": 1},
        "idx_layout": {"_layout": 1},
        **{name: dict(keys) for name, keys in SORT_INDEXES.items()},
    }


def test_every_index_comes_from_a_registry_field_or_a_sort() -> None:
    declared = {f.index for f in all_fields() if f.index} | set(SORT_INDEXES) | {"idx_layout"}
    assert {m.document["name"] for m in index_models()} == declared
    assert all(name.startswith("idx_") for name in declared)


@pytest.mark.parametrize("name", sorted(SORTS))
def test_a_sort_index_has_the_keys_of_its_sort_in_order(name: str) -> None:
    keys = sort_plan(*SORTS[name]).paths
    assert [path for path, _ in SORT_INDEXES[name]] == list(keys)
    assert keys[-1] == TIE_BREAKER
    assert all(direction == 1 for _, direction in SORT_INDEXES[name])


def test_no_index_includes_id() -> None:
    # nx-27017 corrupts a compound index that contains _id (see TIE_BREAKER in sorting.py)
    for model in index_models():
        assert "_id" not in model.document["key"]
