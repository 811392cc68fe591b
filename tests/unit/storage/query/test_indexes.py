"""index_models(): indexes derived from the registry, with stable explicit names."""

from __future__ import annotations

from storage.query import index_models
from storage.query.fields import all_fields
from storage.query.indexes import SORT_INDEXES


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
        "idx_created": {"metadata.v1.created": 1},
        "idx_scan_time": {"scan.scanTime": 1},
        "idx_last_updated": {"lastUpdated": 1},
        "idx_cves": {"cves": 1},
        "idx_risk_score": {"riskScore": 1},
        "idx_top_cvss": {"topCvss": 1},
        "idx_pair_component": {"_search.pairs.c": 1},
        "idx_pair_cve": {"_search.pairs.cve": 1},
        "idx_sort_last_updated": {"lastUpdated": 1, "_search.sha": 1},
        "idx_sort_image": {
            "name.registry": 1,
            "name.remote": 1,
            "name.tag": 1,
            "_search.sha": 1,
        },
    }


def test_every_index_comes_from_a_registry_field_or_a_sort() -> None:
    declared = {f.index for f in all_fields() if f.index} | set(SORT_INDEXES)
    assert {m.document["name"] for m in index_models()} == declared
    assert all(name.startswith("idx_") for name in declared)


def test_no_index_includes_id() -> None:
    # nx-27017 corrupts a compound index that contains _id (see TIE_BREAKER in sorting.py)
    for model in index_models():
        assert "_id" not in model.document["key"]
