"""Derived counts, scan hashes and upstream's merge rules on stored documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.image import normalize_image
from storage.documents import fill_scan_stats, merge, scan_hash, to_stored
from tests.support.images import component, image, vuln

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def stored(raw: dict[str, Any]) -> dict[str, Any]:
    return to_stored(normalize_image(raw), last_updated=NOW)


def test_counts_follow_upstream_fill_scan_stats() -> None:
    doc = stored(
        image(
            "docker.io/a/b:1",
            component(
                "openssl",
                "1",
                vuln("CVE-1", 7.5, "IMPORTANT", fixed_by="2"),
                vuln("CVE-2", 9.1, "CRITICAL", fixed_by=""),
            ),
            component("libc", "1", vuln("CVE-1", 5.0, "MODERATE")),
            component("zlib", "1"),
        )
    )
    assert doc["components"] == 3
    assert doc["cves"] == 2  # distinct ids
    assert doc["fixableCves"] == 1
    assert doc["topCvss"] == 9.1
    tops = [c.get("topCvss") for c in doc["scan"]["components"]]
    assert tops == [9.1, 5.0, None]
    assert "topCvss" not in doc["scan"]["components"][2]
    assert doc["_id"].startswith("sha256:")
    assert "id" not in doc
    assert doc["lastUpdated"] == NOW


def test_fixable_count_is_unset_when_no_vuln_carries_fixed_by() -> None:
    doc: dict[str, Any] = {
        "scan": {"components": [{"vulns": [{"cve": "CVE-1", "cvss": 3.0}]}]},
    }
    fill_scan_stats(doc)
    assert doc["cves"] == 1
    assert "fixableCves" not in doc
    empty: dict[str, Any] = {"scan": {"components": []}}
    fill_scan_stats(empty)
    assert empty == {"scan": {"components": []}, "components": 0, "cves": 0, "fixableCves": 0}


def test_no_scan_means_no_counts() -> None:
    doc = stored(image("docker.io/a/b:1", scanned=None))
    assert not {"components", "cves", "fixableCves", "topCvss"} & set(doc)


def test_scan_hash_is_stable_and_content_sensitive() -> None:
    one = stored(image("docker.io/a/b:1", component("x", "1")))
    two = stored(image("docker.io/a/b:1", component("x", "1")))
    three = stored(image("docker.io/a/b:1", component("x", "2")))
    assert one["scan"]["hash"] == two["scan"]["hash"] != three["scan"]["hash"]
    assert scan_hash(None) is None
    assert int(one["scan"]["hash"]) < 2**64


def test_merge_keeps_newer_stored_scan_and_metadata() -> None:
    old = stored(
        image(
            "docker.io/a/b:1",
            component("x", "1", vuln("CVE-9", 9.9, "CRITICAL")),
            created="2024-06-01T00:00:00Z",
            scanned="2024-06-02T00:00:00Z",
        )
    )
    old["riskScore"] = 3.5
    new = stored(
        image(
            "docker.io/a/b:2",
            component("y", "1"),
            created="2024-01-01T00:00:00Z",
            scanned="2024-01-02T00:00:00Z",
        )
    )
    new["riskScore"] = 1.0
    merged = merge(new, old)
    assert merged["scan"] == old["scan"]
    assert merged["metadata"] == old["metadata"]
    assert merged["riskScore"] == 3.5
    assert merged["cves"] == 1
    assert merged["name"]["fullName"] == "docker.io/a/b:2"
    assert [n["fullName"] for n in merged["names"]] == ["docker.io/a/b:2", "docker.io/a/b:1"]
    assert [p["cve"] for p in merged["_search"]["pairs"] if p["v"]] == ["cve-9"]


def test_merge_keeps_stored_data_when_the_new_timestamps_are_missing() -> None:
    old = stored(image("docker.io/a/b:1", component("x", "1"), created="2024-01-01T00:00:00Z"))
    new = stored(image("docker.io/a/b:1", component("y", "1"), created=None, scanned=None))
    new["scan"] = {**old["scan"], "scanTime": None, "components": [{"name": "y"}]}
    merged = merge(new, old)
    assert merged["metadata"]["v1"]["created"] == old["metadata"]["v1"]["created"]
    assert merged["scan"]["components"][0]["name"] == "x"


def test_merge_takes_newer_or_equal_incoming_scan() -> None:
    old = stored(image("docker.io/a/b:1", component("x", "1"), scanned="2024-01-01T00:00:00Z"))
    new = stored(image("docker.io/a/b:1", component("y", "1"), scanned="2024-01-01T00:00:00Z"))
    assert merge(new, old)["scan"]["components"][0]["name"] == "y"
    no_scan = stored(image("docker.io/a/b:1", scanned=None))
    kept = merge(no_scan, old)
    assert kept["scan"]["components"][0]["name"] == "x"
    assert kept["components"] == 1
