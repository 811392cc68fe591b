"""build_sort_doc(): stored sort keys of an image, from its wire fields and its `_search` rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.query import build_search_doc
from storage.query.sort_keys import build_sort_doc, epoch_ms, sort_paths

UPDATED = datetime(2024, 5, 3, 10, 0, 0, 123000, tzinfo=UTC)
PUBLISHED = datetime(2023, 1, 2, tzinfo=UTC)


def _vuln(cve: str, cvss: float, **extra: Any) -> dict[str, Any]:
    return {"cve": cve, "cvss": cvss, "severity": "LOW_VULNERABILITY_SEVERITY", **extra}


def _sort_doc(doc: dict[str, Any]) -> dict[str, Any]:
    doc["_search"] = build_search_doc(doc)
    return build_sort_doc(doc)


def _scanned() -> dict[str, Any]:
    return {
        "_id": "sha256:aa",
        "name": {"registry": "docker.io", "remote": "library/nginx", "fullName": "docker.io/x"},
        "lastUpdated": UPDATED,
        "riskScore": 2.5,
        "topCvss": 9.8,
        "cves": 3,
        "components": 3,
        "metadata": {"v1": {"created": None, "command": ["sh", "-c", "sh"], "layers": []}},
        "scan": {
            "components": [
                {
                    "name": "OpenSSL",
                    "version": "3.0",
                    "topCvss": 9.8,
                    "vulns": [
                        _vuln("CVE-2", 9.8, fixedBy="3.1", publishedOn=PUBLISHED),
                        _vuln("CVE-1", 5.0),
                    ],
                },
                {"name": "zlib", "version": "1.2", "topCvss": 5.0, "vulns": [_vuln("CVE-1", 5.0)]},
                {"name": "bash", "version": "5", "vulns": []},
            ]
        },
    }


def test_image_scalars() -> None:
    keys = _sort_doc(_scanned())
    assert keys["lu"] == epoch_ms(UPDATED) == 1714730400123
    assert (keys["reg"], keys["rem"], keys["full"]) == ("docker.io", "library/nginx", "docker.io/x")
    assert keys["tag"] == ""  # a missing string is the empty one
    assert (keys["risk"], keys["top"], keys["cves"], keys["comps"]) == (2.5, 9.8, 3, 3)
    assert "top_z" not in keys
    # nullable and null: no value, the null flag instead
    assert "ctime" not in keys
    assert keys["ctime_z"] == 1
    assert "fixc" not in keys
    assert keys["fixc_z"] == 1


def test_joined_rows_min_max_counts() -> None:
    keys = _sort_doc(_scanned())
    assert (keys["cvss_lo"], keys["cvss_hi"]) == (5.0, 9.8)
    assert keys["cvss_n"] == 3  # one per (component, vulnerability)
    assert keys["cvss_d"] == 2
    cve = ("cve-1", "cve-2", 3, 2)
    assert (keys["cve_lo"], keys["cve_hi"], keys["cve_n"], keys["cve_d"]) == cve
    # component names as `_search` holds them; a component field counts components
    assert (keys["c_lo"], keys["c_hi"], keys["c_n"], keys["c_d"]) == ("bash", "zlib", 3, 3)
    # Component Top CVSS: only the components that have vulnerabilities have one
    assert (keys["ctc_lo"], keys["ctc_hi"], keys["ctc_n"]) == (5.0, 9.8, 2)
    assert (keys["fix_lo"], keys["fix_hi"]) == (0, 1)  # booleans as 0/1
    assert keys["pub_lo"] == keys["pub_hi"] == epoch_ms(PUBLISHED)  # dates as milliseconds
    assert keys["pub_n"] == 1
    assert not any(key.endswith("_z") and key[:-2] in ("cvss", "cve", "c", "pub") for key in keys)


def test_string_array_is_compared_as_sent() -> None:
    keys = _sort_doc(_scanned())
    assert (keys["cmd_lo"], keys["cmd_hi"], keys["cmd_n"], keys["cmd_d"]) == ("-c", "sh", 3, 2)
    assert keys["ep_z"] == 1
    assert "ep_lo" not in keys


def test_an_image_without_scan_or_metadata_has_null_flags_only() -> None:
    keys = _sort_doc({"_id": "sha256:bb", "lastUpdated": UPDATED, "riskScore": 0.0})
    for prefix in ("cvss", "cve", "c", "cv", "ins", "cmd"):
        assert keys[f"{prefix}_z"] == 1
        assert not {f"{prefix}_lo", f"{prefix}_hi", f"{prefix}_n", f"{prefix}_d"} & set(keys)
    assert keys["top_z"] == keys["cves_z"] == keys["comps_z"] == 1


def test_every_key_written_is_a_declared_path() -> None:
    declared = {path.removeprefix("_sort.") for path in sort_paths()}
    assert set(_sort_doc(_scanned())) <= declared
    assert set(_sort_doc({"_id": "sha256:bb"})) <= declared
