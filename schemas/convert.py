"""Scalar conversions shared by the marshmallow fields and the fast normalizer (protojson rules)."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from marshmallow import ValidationError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1
# Largest finite IEEE-754 single: proto `float` fields are float32 upstream.
FLOAT32_MAX = 3.4028234663852886e38

# Digits only (no `_`, no whitespace, no unicode digits, which Python's int() would accept);
# 20 digits cover uint64 and bound the cost of int() on hostile input.
_INT_RE = re.compile(r"[+-]?[0-9]{1,20}")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_B64_RE = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


def to_string(value: Any) -> str:
    """Return ``value`` if it is a JSON string."""
    if isinstance(value, str):
        return value
    raise ValidationError("Not a valid string.")


def to_bool(value: Any) -> bool:
    """Return ``value`` if it is a JSON boolean (protojson takes no strings or numbers)."""
    if isinstance(value, bool):
        return value
    raise ValidationError("Not a valid boolean.")


def _integer(value: Any, low: int, high: int, kind: str) -> int:
    cls = value.__class__
    if (
        cls is int
        or (cls is str and _INT_RE.fullmatch(value))
        or (cls is float and math.isfinite(value) and value.is_integer())
    ):
        number = int(value)
    else:
        raise ValidationError(f"Not a valid {kind} integer.")
    if low <= number <= high:
        return number
    raise ValidationError(f"Number out of {kind} range.")


def to_int32(value: Any) -> int:
    """Convert a JSON number or decimal string to an int32."""
    return _integer(value, INT32_MIN, INT32_MAX, "int32")


def to_uint32(value: Any) -> int:
    """Convert a JSON number or decimal string to a uint32."""
    return _integer(value, 0, UINT32_MAX, "uint32")


def to_int64(value: Any) -> str:
    """Convert a JSON number or decimal string to the canonical int64 form: a decimal string."""
    return str(_integer(value, INT64_MIN, INT64_MAX, "int64"))


def to_uint64(value: Any) -> str:
    """Convert a JSON number or decimal string to the canonical uint64 form: a decimal string."""
    return str(_integer(value, 0, UINT64_MAX, "uint64"))


def to_float32(value: Any) -> float:
    """Convert a JSON number or numeric string to a finite float within float32 range.

    NaN and infinities are refused: orjson would render them as ``null``, which no client
    expects in a number field.
    """
    cls = value.__class__
    if cls is float:
        if -FLOAT32_MAX <= value <= FLOAT32_MAX:  # False for NaN and infinities
            return float(value)
        raise ValidationError("Number out of float range.")
    try:
        if cls is int or (cls is str and _FLOAT_RE.fullmatch(value)):
            number = float(value)
        else:
            raise ValidationError("Not a valid number.")
    except OverflowError:
        raise ValidationError("Number out of float range.") from None
    if -FLOAT32_MAX <= number <= FLOAT32_MAX:
        return number
    raise ValidationError("Number out of float range.")


@lru_cache(maxsize=8192)
def _parse_timestamp(text: str) -> datetime:
    match = _TS_RE.fullmatch(text)
    if match is None:
        raise ValidationError("Not a valid RFC 3339 timestamp.")
    year, month, day, hour, minute, second, frac, sign, off_h, off_m = match.groups()
    # BSON dates hold milliseconds: truncate so that the stored document equals this one.
    millis = int((frac or "0")[:3].ljust(3, "0"))
    try:
        stamp = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            millis * 1000, tzinfo=UTC,
        )  # fmt: skip
        if sign is not None:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            stamp = stamp - offset if sign == "+" else stamp + offset
    except (ValueError, OverflowError):
        raise ValidationError("Not a valid RFC 3339 timestamp.") from None
    return stamp


def to_timestamp(value: Any) -> datetime:
    """Convert an RFC 3339 string (or a datetime; naive means UTC) to an aware UTC datetime.

    Precision is cut to milliseconds, the precision of a BSON date.
    """
    if value.__class__ is str:
        return _parse_timestamp(value)
    if isinstance(value, datetime):
        stamp = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return stamp.replace(microsecond=stamp.microsecond - stamp.microsecond % 1000)
    raise ValidationError("Not a valid RFC 3339 timestamp.")


def format_timestamp(value: datetime) -> str:
    """Render a datetime as RFC 3339 UTC with ``Z``, like orjson with ``OPT_UTC_Z``."""
    stamp = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += f".{stamp.microsecond:06d}"
    return text + "Z"


def to_bytes(value: Any) -> str:
    """Convert base64 (standard or URL-safe, padding optional) to canonical padded base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if value.__class__ is str and _B64_RE.fullmatch(value):
        text = value.rstrip("=").replace("-", "+").replace("_", "/")
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except binascii.Error:
            pass
        else:
            return base64.b64encode(raw).decode("ascii")
    raise ValidationError("Not a valid base64 string.")


def to_string_map(value: Any) -> dict[str, str]:
    """Convert a JSON object of strings (``map<string, string>``)."""
    if not isinstance(value, Mapping):
        raise ValidationError("Not a valid mapping type.")
    errors: dict[str, list[str]] = {}
    for key, item in value.items():
        if key.__class__ is not str or item.__class__ is not str:
            errors[str(key)] = ["Not a valid string."]
    if errors:
        raise ValidationError(errors)
    return dict(value)


def to_object(value: Any) -> dict[str, Any]:
    """Accept any JSON object as is (``google.protobuf.Any`` details)."""
    if isinstance(value, Mapping):
        return dict(value)
    raise ValidationError("Not a valid mapping type.")


def to_list(inner: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    """Build the conversion of a repeated field around its item conversion (errors by index)."""

    def convert_list(value: Any) -> list[Any]:
        if value.__class__ is not list and not isinstance(value, list | tuple):
            raise ValidationError("Not a valid list.")
        try:
            return [inner(item) if item is not None else _null_item() for item in value]
        except ValidationError:
            pass
        out: list[Any] = []
        errors: dict[int, Any] = {}
        for index, item in enumerate(value):
            try:
                out.append(inner(item) if item is not None else _null_item())
            except ValidationError as err:
                errors[index] = err.messages
        raise ValidationError(errors)

    return convert_list


def _null_item() -> Any:
    raise ValidationError("Field may not be null.")
