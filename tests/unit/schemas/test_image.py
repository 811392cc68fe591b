"""normalize_image: the canonical form, its leniency, its errors, and equality with Schema.load."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from marshmallow import ValidationError

from app.http import dumps
from schemas.image import ImageSchema, ListImageSchema, normalize_image
from tests.support.realistic import DIGEST, make_image, sparse_image
from tests.support.swagger import assert_all_fields_present, validate_definition


def wire(doc: dict[str, Any]) -> Any:
    return json.loads(dumps(doc))


def both(raw: Any) -> dict[str, Any]:
    """Normalize on both paths and check they agree."""
    fast = normalize_image(raw)
    assert fast == ImageSchema().load(raw)
    return fast


def errors_of(raw: Any) -> Any:
    with pytest.raises(ValidationError) as fast:
        normalize_image(raw)
    with pytest.raises(ValidationError) as slow:
        ImageSchema().load(raw)
    assert fast.value.messages == slow.value.messages
    return fast.value.messages


def test_sparse_image_gets_every_field() -> None:
    doc = both(sparse_image())
    assert doc == {
        "id": DIGEST,
        "name": None,
        "names": [],
        "metadata": None,
        "scan": None,
        "signatureVerificationData": None,
        "signature": None,
        "lastUpdated": None,
        "notPullable": False,
        "isClusterLocal": False,
        "priority": "0",
        "riskScore": 0.0,
        "notes": [],
        "baseImageInfo": [],
    }
    body = wire(doc)
    validate_definition("storageImage", body)
    assert_all_fields_present("storageImage", body)


def test_empty_sub_messages_get_every_field() -> None:
    vuln: dict[str, Any] = {"cvssV3": {}, "cvssMetrics": [{}]}
    raw: dict[str, Any] = {
        "id": DIGEST,
        "name": {},
        "metadata": {"v1": {}, "v2": {}},
        "scan": {"components": [{"vulns": [vuln]}]},
        "signature": {"signatures": [{"cosign": {}}]},
    }
    body = wire(both(raw))
    validate_definition("storageImage", body)
    assert_all_fields_present("storageImage", body)
    assert body["metadata"]["version"] == "0"
    assert "hash" not in body["scan"]
    vuln = body["scan"]["components"][0]["vulns"][0]
    assert "fixedBy" not in vuln
    assert vuln["cvssMetrics"] == [{"source": "SOURCE_UNKNOWN", "url": ""}]


def test_full_image_is_swagger_valid_and_round_trips() -> None:
    doc = both(make_image(30, 40))
    body = wire(doc)
    validate_definition("storageImage", body)
    assert_all_fields_present("storageImage", body)
    validate_definition("v1ExportImageResponse", {"image": body})
    assert normalize_image(body) == doc
    assert normalize_image(doc) == doc  # idempotent on the canonical (datetime) form


def test_canonical_values() -> None:
    doc = both(make_image(3, 4))
    assert doc["priority"] == "3"
    assert doc["metadata"]["version"] == "4"
    assert doc["scan"]["hash"] == "1234567890123456789"
    assert doc["lastUpdated"] == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)
    assert doc["components"] == 3
    assert doc["topCvss"] == 9.8
    assert doc["signature"]["signatures"][0]["cosign"]["rawSignature"] == "c2ln"


def test_oneofs_are_omitted_when_absent_or_null_and_kept_when_zero() -> None:
    raw = make_image(2, 2)
    for key in ("components", "cves", "topCvss"):
        del raw[key]
    raw["fixableCves"] = None
    raw["scan"]["hash"] = None
    component = raw["scan"]["components"][0]
    component.pop("topCvss", None)
    component["layerIndex"] = 0
    doc = both(raw)
    for key in ("components", "cves", "fixableCves", "topCvss"):
        assert key not in doc
    assert "hash" not in doc["scan"]
    assert doc["scan"]["components"][0]["layerIndex"] == 0
    assert "topCvss" not in doc["scan"]["components"][0]


def test_fixed_by_absent_differs_from_empty() -> None:
    vulns = [{"cve": "CVE-1"}, {"cve": "CVE-2", "fixedBy": ""}, {"cve": "CVE-3", "fixedBy": "2"}]
    doc = both({"id": DIGEST, "scan": {"components": [{"vulns": vulns}]}})
    got = doc["scan"]["components"][0]["vulns"]
    assert ["fixedBy" in v for v in got] == [False, True, True]
    assert [v.get("fixedBy") for v in got] == [None, "", "2"]


def test_snake_case_keys_are_accepted() -> None:
    raw = {
        "id": DIGEST,
        "last_updated": "2024-05-01T10:00:01Z",
        "fixable_cves": 2,
        "is_cluster_local": True,
        "metadata": {"layer_shas": ["sha256:aa"], "data_source": {"id": "r"}},
        "signature_verification_data": {"results": [{"verifier_id": "v"}]},
        "base_image_info": [{"max_layer_index": 3}],
        "scan": {
            "scanner_version": "4",
            "components": [
                {"layer_index": 1, "vulns": [{"fixed_by": "1.1", "cvss_v3": {"attack_vector": 2}}]}
            ],
        },
    }
    doc = both(raw)
    assert doc["lastUpdated"] == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)
    assert doc["fixableCves"] == 2
    assert doc["isClusterLocal"] is True
    assert doc["metadata"]["layerShas"] == ["sha256:aa"]
    assert doc["metadata"]["dataSource"]["id"] == "r"
    assert doc["signatureVerificationData"]["results"][0]["verifierId"] == "v"
    assert doc["baseImageInfo"][0]["maxLayerIndex"] == 3
    component = doc["scan"]["components"][0]
    assert doc["scan"]["scannerVersion"] == "4"
    assert component["layerIndex"] == 1
    assert component["vulns"][0]["fixedBy"] == "1.1"
    assert component["vulns"][0]["cvssV3"]["attackVector"] == "ATTACK_NETWORK"


def test_camel_case_wins_over_snake_case_even_when_null() -> None:
    assert both({"id": DIGEST, "riskScore": None, "risk_score": 2})["riskScore"] == 0.0
    assert both({"id": DIGEST, "riskScore": 1, "risk_score": 2})["riskScore"] == 1.0


def test_enums_by_number_and_unknown_keys_ignored() -> None:
    raw = {
        "id": DIGEST,
        "notes": [0, "MISSING_SCAN_DATA", 3],
        "scan": {"notes": [6], "components": [{"source": 7, "vulns": [{"severity": 4}]}]},
        "futureField": {"x": 1},
    }
    doc = both(raw)
    assert doc["notes"] == [
        "MISSING_METADATA",
        "MISSING_SCAN_DATA",
        "MISSING_SIGNATURE_VERIFICATION_DATA",
    ]
    assert doc["scan"]["notes"] == ["CERTIFIED_RHEL_SCAN_UNAVAILABLE"]
    assert doc["scan"]["components"][0]["source"] == "GO"
    assert doc["scan"]["components"][0]["vulns"][0]["severity"] == "CRITICAL_VULNERABILITY_SEVERITY"
    assert "futureField" not in doc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.1Z", datetime(2024, 5, 1, 10, 0, 0, 100000, tzinfo=UTC)),
        ("2024-05-01T10:00:00.123456789Z", datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2024-05-01T12:30:00+02:30", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T08:00:00.5-02:00", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_timestamps_become_aware_utc_milliseconds(text: str, expected: datetime) -> None:
    got = both({"id": DIGEST, "lastUpdated": text})["lastUpdated"]
    assert got == expected
    assert got.tzinfo is UTC


def test_int64_as_number_or_string_and_nulls_as_defaults() -> None:
    doc = both({"id": DIGEST, "priority": 12, "metadata": {"version": "007"}, "names": None})
    assert doc["priority"] == "12"
    assert doc["metadata"]["version"] == "7"
    assert doc["names"] == []


def test_id_is_required() -> None:
    assert errors_of({}) == {"id": ["Missing data for required field."]}


@pytest.mark.parametrize(
    "digest", ["", None, "sha256:abc", "sha256:" + "A" * 64, "sha256:" + "a" * 63, "nginx:latest"]
)
def test_id_must_be_a_digest(digest: str | None) -> None:
    messages = errors_of({"id": digest})
    assert list(messages) == ["id"]
    assert "digest" in messages["id"][0]


def test_other_digest_algorithms_are_accepted() -> None:
    assert both({"id": "sha512:" + "0" * 128})["id"].startswith("sha512:")


def test_errors_name_the_path() -> None:
    raw = make_image(2, 3)
    raw["scan"]["components"][1]["vulns"][0]["severity"] = "SEVERE"
    raw["scan"]["components"][1]["vulns"][0]["publishedOn"] = "yesterday"
    raw["metadata"]["v1"]["command"] = ["ok", 3]
    raw["priority"] = "1.5"
    messages = errors_of(raw)
    vuln = messages["scan"]["components"][1]["vulns"][0]
    assert set(vuln) == {"severity", "publishedOn"}
    assert "IMPORTANT_VULNERABILITY_SEVERITY" in vuln["severity"][0]
    assert messages["metadata"]["v1"]["command"] == {1: ["Not a valid string."]}
    assert messages["priority"] == ["Not a valid int64 integer."]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"lastUpdated": "2024-05-01 10:00:00Z"}, ("lastUpdated",)),
        ({"lastUpdated": "2024-02-30T10:00:00Z"}, ("lastUpdated",)),
        ({"lastUpdated": 1714557600}, ("lastUpdated",)),
        ({"riskScore": "NaN"}, ("riskScore",)),
        ({"riskScore": 1e39}, ("riskScore",)),
        ({"riskScore": True}, ("riskScore",)),
        ({"components": 2**31}, ("components",)),
        ({"notPullable": "true"}, ("notPullable",)),
        ({"notes": [None]}, ("notes", 0)),
        ({"notes": ["MISSING_METADATA", 9]}, ("notes", 1)),
        ({"notes": "MISSING_METADATA"}, ("notes",)),
        ({"name": "nginx"}, ("name",)),
        ({"names": [{"tag": 1}]}, ("names", 0, "tag")),
        ({"metadata": {"v1": {"labels": {"a": 1}}}}, ("metadata", "v1", "labels", "a")),
        (
            {"signature": {"signatures": [{"cosign": {"rawSignature": "!!"}}]}},
            ("signature", "signatures", 0, "cosign", "rawSignature"),
        ),  # fmt: skip
        ({"scan": {"hash": "-1"}}, ("scan", "hash")),
    ],
)
def test_bad_values_are_refused_at_their_path(raw: dict[str, Any], path: tuple[Any, ...]) -> None:
    messages = errors_of({"id": DIGEST, **raw})
    for key in path:
        messages = messages[key]
    assert isinstance(messages, list)
    assert messages


def test_non_object_input() -> None:
    assert errors_of(["not", "an", "object"]) == {"_schema": ["Invalid input type."]}


def test_bytes_are_canonical_base64() -> None:
    cosign = {"rawSignature": "-_8", "signaturePayload": "aGk", "certPem": "aGk="}
    doc = both({"id": DIGEST, "signature": {"signatures": [{"cosign": cosign}]}})
    got = doc["signature"]["signatures"][0]["cosign"]
    assert [got["rawSignature"], got["signaturePayload"], got["certPem"]] == [
        "+/8=",
        "aGk=",
        "aGk=",
    ]


def test_marshmallow_dump_equals_the_orjson_rendering() -> None:
    doc = normalize_image(make_image(5, 9))
    assert ImageSchema().dump(doc) == wire(doc)
    assert ImageSchema().dump({"id": DIGEST, "topCvss": None}) == wire(both(sparse_image()))


def test_naive_datetimes_render_as_utc() -> None:
    doc = normalize_image(sparse_image())
    naive = {**doc, "lastUpdated": datetime(2024, 5, 1, 10, 0, 0, 250000)}  # as read from MongoDB
    assert json.loads(dumps(naive))["lastUpdated"] == "2024-05-01T10:00:00.250000Z"


def test_input_is_not_modified() -> None:
    raw = make_image(3, 5)
    before = copy.deepcopy(raw)
    normalize_image(raw)
    ImageSchema().load(raw)
    assert raw == before


def test_list_image() -> None:
    raw = {"id": DIGEST, "name": "docker.io/library/nginx:1.25", "cves": "3", "created": None}
    doc = ListImageSchema().load(raw)
    assert doc == {
        "id": DIGEST,
        "name": "docker.io/library/nginx:1.25",
        "cves": 3,
        "created": None,
        "lastUpdated": None,
        "priority": "0",
    }
    body = wire(doc)
    validate_definition("storageListImage", body)
    assert_all_fields_present("storageListImage", body)
    with pytest.raises(ValidationError):
        ListImageSchema().load({"id": "x"})


def test_schema_load_really_runs_marshmallow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the equality checks above: the two paths must be independent below the top."""
    from schemas import plan

    monkeypatch.setattr(plan, "message_normalizer", None)  # any use of the fast path would fail
    assert ImageSchema().load(make_image(2, 3))["scan"]["components"][1]["vulns"]


def test_normalize_speed_on_a_realistic_image(capsys: pytest.CaptureFixture[str]) -> None:
    raw = make_image(300, 400)
    assert normalize_image(raw) == ImageSchema().load(raw)

    def best_ms(fn: Any, runs: int) -> float:
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            fn(raw)
            timings.append(time.perf_counter() - start)
        return min(timings) * 1000

    fast, slow = best_ms(normalize_image, 15), best_ms(ImageSchema().load, 3)
    with capsys.disabled():
        print(
            f"\nnormalize_image, 300 components / 400 vulns ({len(dumps(raw)) // 1024} KiB): "
            f"{fast:.1f} ms (ImageSchema().load: {slow:.1f} ms)"
        )
