"""Scalar conversions (protojson input rules) and the proto enum type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from marshmallow import ValidationError

from schemas import convert
from schemas.enums import VULNERABILITY_SEVERITY


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5), ("-7", -7), ("+3", 3), (4.0, 4), (2**31 - 1, 2**31 - 1)]
)
def test_int32_accepts(value: Any, expected: int) -> None:
    assert convert.to_int32(value) == expected


@pytest.mark.parametrize("value", [True, 1.5, "1.0", " 1", "1_0", "", "٣", 2**31, None, [1]])
def test_int32_refuses(value: Any) -> None:
    with pytest.raises(ValidationError):
        convert.to_int32(value)


def test_64_bit_integers_are_strings() -> None:
    assert convert.to_int64(2**63 - 1) == "9223372036854775807"
    assert convert.to_int64("-0012") == "-12"
    assert convert.to_uint64("18446744073709551615") == "18446744073709551615"
    for bad in (2**63, "-1x"):
        with pytest.raises(ValidationError):
            convert.to_int64(bad)
    with pytest.raises(ValidationError):
        convert.to_uint64(-1)


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1.0), (7.5, 7.5), ("0.25", 0.25), ("1e3", 1e3)]
)
def test_float_accepts(value: Any, expected: float) -> None:
    got = convert.to_float32(value)
    assert got == expected
    assert type(got) is float


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", float("nan"), float("inf"), 1e39, 10**400, "x", False]
)
def test_float_refuses(value: Any) -> None:
    with pytest.raises(ValidationError):
        convert.to_float32(value)


def test_timestamp_accepts_datetimes_and_keeps_milliseconds() -> None:
    naive = datetime(2024, 5, 1, 10, 0, 0, 123456)
    assert convert.to_timestamp(naive) == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    plus2 = datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    got = convert.to_timestamp(plus2)
    assert got == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert got.tzinfo is UTC
    assert convert.to_timestamp("2024-05-01t10:00:00z") == datetime(2024, 5, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01",
        "2024-05-01T10:00Z",
        "2024-05-01T10:00:00",
        "2024-05-01T10:00:00.1234567890Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T10:00:60Z",
        "0001-01-01T00:00:00+01:00",
        "2024-05-01T10:00:00+0200",
    ],
)
def test_timestamp_refuses(text: str) -> None:
    with pytest.raises(ValidationError):
        convert.to_timestamp(text)


def test_format_timestamp_matches_orjson() -> None:
    assert convert.format_timestamp(datetime(2024, 5, 1, 10, tzinfo=UTC)) == "2024-05-01T10:00:00Z"
    stamp = datetime(2024, 5, 1, 10, 0, 0, 120000)
    assert convert.format_timestamp(stamp) == "2024-05-01T10:00:00.120000Z"


def test_bytes() -> None:
    assert convert.to_bytes(b"\xfb\xff") == "+/8="
    assert convert.to_bytes("-_8") == "+/8="
    assert convert.to_bytes("") == ""
    for bad in ("a", "a===", "@@@@", 5):
        with pytest.raises(ValidationError):
            convert.to_bytes(bad)


def test_maps_lists_and_objects() -> None:
    assert convert.to_string_map({"a": "b"}) == {"a": "b"}
    with pytest.raises(ValidationError) as err:
        convert.to_string_map({"a": None})
    assert err.value.messages == {"a": ["Not a valid string."]}
    to_list = convert.to_list(convert.to_int32)
    assert to_list(("1", 2)) == [1, 2]
    with pytest.raises(ValidationError) as err:
        to_list([1, None, "x"])
    assert err.value.messages == {1: ["Field may not be null."], 2: ["Not a valid int32 integer."]}
    with pytest.raises(ValidationError):
        to_list("12")
    assert convert.to_object({"@type": "x"}) == {"@type": "x"}


def test_enum_by_name_or_number_only() -> None:
    assert VULNERABILITY_SEVERITY.convert(3) == "IMPORTANT_VULNERABILITY_SEVERITY"
    assert (
        VULNERABILITY_SEVERITY.convert("LOW_VULNERABILITY_SEVERITY") == "LOW_VULNERABILITY_SEVERITY"
    )
    for bad in ("3", True, 3.0, "low_vulnerability_severity", 5, None):
        with pytest.raises(ValidationError):
            VULNERABILITY_SEVERITY.convert(bad)
