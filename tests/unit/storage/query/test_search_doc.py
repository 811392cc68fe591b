"""build_search_doc(): the flat lower-cased layout built from a stored image document, with the
original spelling of row strings where it differs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from storage.query import build_search_doc
from storage.query.dates import epoch_millis
from storage.query.fields import Kind, all_fields
from storage.query.search_doc import ROW_STRINGS

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
T1 = datetime(2023, 11, 6, 16, 15, tzinfo=UTC)
DIGEST = "sha256:1f3c5d7e9a0b2c4d6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809"


def image() -> dict[str, Any]:
    """A stored document: wire shape, datetimes, enum names, oneofs partly absent."""
    return {
        "_id": DIGEST,
        "name": {
            "registry": "Docker.io",
            "remote": "library/NGINX",
            "tag": "1.25",
            "fullName": "Docker.io/library/NGINX:1.25",
        },
        "metadata": {
            "v1": {
                "created": T0,
                "user": "Nginx",
                "command": ["nginx", "-g", "Daemon off;"],
                "entrypoint": ["/docker-entrypoint.sh"],
                "volumes": [],
                "labels": {"Maintainer": "NGINX Docker Maintainers", "version": "1.25"},
                "layers": [
                    {"instruction": "ADD", "value": "file:abc in /", "created": T0},
                    {"instruction": "RUN", "value": "apt-get install -y Nginx"},
                ],
            }
        },
        "scan": {
            "scanTime": T0,
            "operatingSystem": "Debian:12",
            "components": [
                {
                    "name": "OpenSSL",
                    "version": "3.0.11-1",
                    "layerIndex": 0,
                    "priority": "1",
                    "source": "OS",
                    "location": "",
                    "topCvss": 7.5,
                    "riskScore": 1.2,
                    "architecture": "amd64",
                    "vulns": [
                        {
                            "cve": "CVE-2023-5678",
                            "advisory": {"name": "DSA-5532-1", "link": "https://Sec/DSA"},
                            "cvss": 7.5,
                            "fixedBy": "3.0.13-1",
                            "cvssV3": {"impactScore": 3.6, "score": 7.5},
                            "cvssV2": {"impactScore": 2.9},
                            "publishedOn": T1,
                            "firstSystemOccurrence": T0,
                            "firstImageOccurrence": T0,
                            "fixAvailableTimestamp": None,
                            "severity": "IMPORTANT_VULNERABILITY_SEVERITY",
                            "state": "OBSERVED",
                            "suppressed": False,
                            "cvssMetrics": [
                                {"source": "SOURCE_RED_HAT", "cvssv3": {"score": 5.0}},
                                {"source": "SOURCE_NVD", "cvssv2": {"score": 6.8}},
                            ],
                            "epss": {"epssProbability": 0.25, "epssPercentile": 0.9},
                            "exploit": {"dateAdded": "2024-01-01"},
                        },
                        {
                            "cve": "CVE-2024-0001",
                            "cvss": 4.0,
                            "cvssV2": {"impactScore": 2.9},
                            "severity": 1,  # a number in place of a name
                            "state": "DEFERRED",
                            "suppressed": False,
                            "cvssMetrics": [
                                {
                                    "source": "SOURCE_NVD",
                                    "cvssv2": {"score": 4.3},
                                    "cvssv3": {"score": 5.3},
                                },
                            ],  # fmt: skip
                            "epss": None,
                            "exploit": None,
                        },
                    ],
                },
                {
                    "name": "zlib",
                    "version": "1.2.13",
                    "layerIndex": 1,
                    "source": "OS",
                    "riskScore": 0,
                    "vulns": [],
                },
                {
                    "name": "requests",
                    "version": "2.31.0",
                    "layerIndex": 2,
                    "source": "PYTHON",
                    "location": "/usr/lib/Python3/site-packages",
                    "vulns": [{"cve": "CVE-2024-9", "suppressed": True, "fixedBy": ""}],
                },
            ],
        },
        "baseImageInfo": [{"baseImageFullName": "debian:12", "maxLayerIndex": 1}],
        "riskScore": 1.8,
        "lastUpdated": T0,
    }


VULN_KEYS = {
    "cve", "cvss", "sev", "fix", "fb", "st", "imp", "nvd", "pub", "crt", "fio", "fat", "epss",
    "kev", "an", "al", "vid", "snz",
}  # fmt: skip
COMPONENT_KEYS = {"c", "cv", "cs", "ctc", "crs", "cp", "cl", "lt", "cid"}


def test_image_level_strings_are_lower_cased() -> None:
    doc = build_search_doc(image())
    assert {k: doc[k] for k in ("full", "registry", "remote", "tag", "sha", "user", "os")} == {
        "full": "docker.io/library/nginx:1.25",
        "registry": "docker.io",
        "remote": "library/nginx",
        "tag": "1.25",
        "sha": DIGEST,
        "user": "nginx",
        "os": "debian:12",
    }
    assert doc["cmd"] == ["nginx", "-g", "daemon off;"]
    assert doc["ep"] == ["/docker-entrypoint.sh"]
    assert doc["vol"] == []
    assert doc["labels"] == [
        {
            "k": "maintainer",
            "k_o": "Maintainer",
            "v": "nginx docker maintainers",
            "v_o": "NGINX Docker Maintainers",
            "o": ",k,v,",
        },
        {"k": "version", "v": "1.25", "o": ""},
    ]
    assert doc["layers"] == [
        {"ins": "add", "ins_o": "ADD", "val": "file:abc in /", "o": ",ins,"},
        {
            "ins": "run",
            "ins_o": "RUN",
            "val": "apt-get install -y nginx",
            "val_o": "apt-get install -y Nginx",
            "o": ",ins,val,",
        },
    ]


def test_image_level_originals_are_not_copied() -> None:
    """Exact matches on image-level strings read the document's own fields."""
    assert not any(key.endswith("_o") for key in build_search_doc(image()))


def test_one_pair_per_vulnerability_and_one_for_a_component_without() -> None:
    pairs = build_search_doc(image())["pairs"]
    assert [(p["c"], p["v"], p["cve"]) for p in pairs] == [
        ("openssl", True, "cve-2023-5678"),
        ("openssl", True, "cve-2024-0001"),
        ("zlib", False, None),
        ("requests", True, "cve-2024-9"),
    ]
    for pair in pairs:  # uniform rows: every key on every pair, and originals where they differ
        originals = {f"{key}_o" for key in pair["o"].strip(",").split(",") if key}
        assert set(pair) == {"v", "o"} | COMPONENT_KEYS | VULN_KEYS | originals


def test_full_vulnerability_pair() -> None:
    pair = build_search_doc(image())["pairs"][0]
    assert pair == {
        "v": True,
        "c": "openssl",
        "c_o": "OpenSSL",
        "cv": "3.0.11-1",
        "cs": 0,
        "ctc": 7.5,
        "crs": 1.2,
        "cp": 1,
        "cl": "",
        "lt": 1,  # layer 0 <= base image max layer 1: BASE_IMAGE
        "cid": "openssl#3.0.11-1#amd64",
        "cid_o": "OpenSSL#3.0.11-1#amd64",
        "cve": "cve-2023-5678",
        "cve_o": "CVE-2023-5678",
        "cvss": 7.5,
        "sev": 3,
        "fix": True,
        "fb": "3.0.13-1",
        "st": 0,
        "imp": 3.6,  # cvssV3 preferred
        "nvd": 6.8,  # the NVD entry's score
        "pub": epoch_millis(T1),  # row dates in epoch milliseconds
        "crt": epoch_millis(T0),
        "fio": epoch_millis(T0),
        "fat": None,
        "epss": 0.25,
        "kev": True,
        "an": "dsa-5532-1",
        "an_o": "DSA-5532-1",
        "al": "https://sec/dsa",
        "al_o": "https://Sec/DSA",
        "vid": "cve-2023-5678#openssl#3.0.11-1",
        "vid_o": "CVE-2023-5678#OpenSSL#3.0.11-1",
        "snz": False,
        "o": ",c,cid,cve,an,al,vid,",
    }


def test_deferred_vulnerability_is_snoozed_and_numbers_are_accepted() -> None:
    pair = build_search_doc(image())["pairs"][1]
    assert (pair["sev"], pair["st"], pair["snz"]) == (1, 1, True)
    assert (pair["imp"], pair["nvd"], pair["epss"], pair["kev"]) == (2.9, 5.3, None, False)
    assert (pair["fix"], pair["fb"], pair["cvss"]) == (False, "", 4.0)
    assert pair["ctc"] == 7.5  # component-level values repeat on each of its pairs


def test_component_without_vulnerabilities() -> None:
    pair = build_search_doc(image())["pairs"][2]
    assert pair == {
        "v": False,
        "c": "zlib",
        "cv": "1.2.13",
        "cs": 0,
        "ctc": None,
        "crs": 0.0,
        "cp": 0,
        "cl": "",
        "lt": 1,  # layer 1 <= 1
        "cid": "zlib#1.2.13#",
        **dict.fromkeys(VULN_KEYS),
        "o": "",  # all lower-case already; no original kept
    }


def test_suppressed_vulnerability_in_an_application_layer() -> None:
    pair = build_search_doc(image())["pairs"][3]
    flags = (pair["snz"], pair["st"], pair["sev"], pair["fix"], pair["fb"])
    assert flags == (True, 0, 0, False, "")
    assert (pair["lt"], pair["cs"], pair["cl"]) == (0, 1, "/usr/lib/python3/site-packages")
    assert pair["cl_o"] == "/usr/lib/Python3/site-packages"
    assert (pair["imp"], pair["nvd"], pair["pub"]) == (None, None, None)


@pytest.mark.parametrize(
    ("base_image_info", "layer_index", "layer_type"),
    [
        ([], 0, 0),  # no base image info: APPLICATION
        ([{"maxLayerIndex": 3}], None, 0),  # no layer index: APPLICATION
        ([{"maxLayerIndex": 3}], 3, 1),
        ([{"maxLayerIndex": 3}], 4, 0),
        ([{"maxLayerIndex": 0}, {"maxLayerIndex": 9}], 5, 0),  # only the first entry counts
        (None, 0, 0),
    ],
)
def test_layer_type(base_image_info: Any, layer_index: int | None, layer_type: int) -> None:
    component: dict[str, Any] = {"name": "x", "vulns": []}
    if layer_index is not None:
        component["layerIndex"] = layer_index
    doc = {"_id": "sha256:a", "scan": {"components": [component]}, "baseImageInfo": base_image_info}
    assert build_search_doc(doc)["pairs"][0]["lt"] == layer_type


def test_sparse_document() -> None:
    doc = {"_id": "sha256:AB", "name": None, "metadata": None, "scan": None, "signature": None}
    assert build_search_doc(doc) == {
        "full": "",
        "registry": "",
        "remote": "",
        "tag": "",
        "sha": "sha256:ab",
        "user": "",
        "os": "",
        "created": None,
        "scanned": None,
        "sigFetched": None,
        "updated": None,
        "cmd": [],
        "ep": [],
        "vol": [],
        "labels": [],
        "layers": [],
        "pairs": [],
    }


def test_every_date_field_is_searched_on_a_copy_in_epoch_milliseconds() -> None:
    """to_filter compares every date bound in epoch milliseconds."""
    for field in all_fields():
        if field.kind is Kind.DATE:
            assert field.array is not None or field.full_path.startswith("_search."), field.label


def test_image_dates_are_copied_in_epoch_milliseconds() -> None:
    doc = {
        "_id": "sha256:a",
        "metadata": {"v1": {"created": T0}},
        "scan": {"scanTime": "2023-11-06T16:15:00Z"},
        "signature": {"fetched": datetime(2023, 11, 6, 16, 15)},  # naive: UTC
        "lastUpdated": T1,
    }
    search = build_search_doc(doc)
    assert (search["created"], search["scanned"]) == (epoch_millis(T0), epoch_millis(T1))
    assert search["sigFetched"] == search["updated"] == epoch_millis(T1)


def test_string_timestamps_are_parsed_and_naive_ones_taken_as_utc() -> None:
    vulns = [
        {"cve": "a", "publishedOn": "2023-11-06T16:15:00Z", "firstSystemOccurrence": "junk"},
        {"cve": "b", "publishedOn": datetime(2023, 11, 6, 16, 15)},
    ]
    doc = {"_id": "sha256:a", "scan": {"components": [{"name": "x", "vulns": vulns}]}}
    first, second = build_search_doc(doc)["pairs"]
    assert first["pub"] == second["pub"] == epoch_millis(T1)
    assert first["crt"] is None


def test_every_row_string_field_keeps_its_original() -> None:
    """Exact matches on a row string compare ``<key>_o``, so the search document must write it."""
    row_strings = {f.path for f in all_fields() if f.array and f.kind is Kind.STRING}
    assert row_strings <= ROW_STRINGS
    assert {f.original for f in all_fields() if f.array and f.kind is Kind.STRING} == {
        f"{key}_o" for key in row_strings
    }


def test_original_kept_only_where_lower_casing_changes_it() -> None:
    labels = {"a": "B", "ß": "ß", "Ä": "ä", "": ""}
    doc = {"_id": "sha256:a", "metadata": {"v1": {"labels": labels}}}
    assert build_search_doc(doc)["labels"] == [
        {"k": "a", "v": "b", "v_o": "B", "o": ",v,"},
        {"k": "ß", "v": "ß", "o": ""},
        {"k": "ä", "k_o": "Ä", "v": "ä", "o": ",k,"},
        {"k": "", "v": "", "o": ""},
    ]
