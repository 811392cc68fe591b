"""Parsing of date values: ``tr/<ms>-<ms>``, ``MM/DD/YYYY[ h:mm[:ss] AM|PM][ ZONE]``, day ages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from storage.query.errors import InvalidQuery
from storage.query.lexer import split_comparator
from storage.query.nodes import DateBound, DateCmp, Exists
from storage.query.values import existence, reject_modifiers

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = timedelta(days=1)
_TIME_RANGE = re.compile(r"tr/([0-9]+)-([0-9]+)")
_ABSOLUTE = re.compile(
    r"(?P<mo>[0-9]{2})/(?P<d>[0-9]{2})/(?P<y>[0-9]{4})"
    r"(?: (?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2}))? (?P<ampm>[AaPp][Mm]))?"
    r"(?: (?P<zone>[A-Za-z]{3,4}))?"
)
_DAYS = re.compile(r"(-?[0-9]+)d?")
_DAY_RANGE = re.compile(r"(-?[0-9]+)d?-([0-9]+)d?")
_MAX_DAYS = 100_000  # ~270 years; keeps now ± days inside datetime's range
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip
# Relative values are ages, so the comparison flips: ">30d" = older than 30 days. The inclusive
# forms flip strictness as well (upstream: ">=N" → "<", "<=N" → ">").
_AGE_OPS = {">": "$lte", "<": "$gte", ">=": "$lt", "<=": "$gt", "=": "$eq", "==": "$eq", "": "$eq"}
_ABS_OPS = {">": "$gt", "<": "$lt", ">=": "$gte", "<=": "$lte", "=": "$eq", "==": "$eq"}


def epoch_millis(at: datetime) -> int:
    """Milliseconds since the epoch (a naive datetime is UTC); how row dates are stored."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def _bad(prefix: str, value: str) -> InvalidQuery:
    return InvalidQuery(
        f"invalid time query (prefix: {prefix}, value: {value}). "
        "Must be of the format (01/02/2006 or 1d)"
    )


def absolute(text: str) -> datetime | None:
    """Parse the upstream absolute layouts (UTC unless a zone abbreviation is given)."""
    m = _ABSOLUTE.fullmatch(text)
    if m is None:
        return None
    zone = (m["zone"] or "UTC").upper()
    if zone not in _ZONES:
        return None
    hour = 0
    if m["h"] is not None:
        hour = int(m["h"])
        if hour > 12:
            return None
        hour = hour % 12 + (12 if m["ampm"].upper() == "PM" else 0)
    try:
        naive = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), hour, int(m["mi"] or 0),
                         int(m["s"] or 0))  # fmt: skip
    except ValueError:
        return None
    return naive.replace(tzinfo=timezone(timedelta(hours=_ZONES[zone]))).astimezone(UTC)


_MAX_DIGITS = 15  # longer digit runs are no timestamp or day count, and int() of them is slow


def _millis(text: str) -> datetime:
    if len(text.lstrip("+-")) > _MAX_DIGITS:
        raise InvalidQuery(f'time range bound "{text[:20]}…" is out of range')
    try:
        return _EPOCH + timedelta(milliseconds=int(text))
    except OverflowError:
        raise InvalidQuery(f'time range bound "{text}" is out of range') from None


def _days(text: str) -> int:
    if len(text.lstrip("+-")) > _MAX_DIGITS:
        raise InvalidQuery(f'"{text[:20]}…" days is out of range (at most {_MAX_DAYS})')
    days = int(text)
    if abs(days) > _MAX_DAYS:
        raise InvalidQuery(f"{days} days is out of range (at most {_MAX_DAYS})")
    return days


def parse_date(raw: str) -> DateCmp | Exists:
    """One date value.

    Raises:
        InvalidQuery: a modifier, or a value in none of the accepted forms.
    """
    found = existence(raw)
    if found is not None:
        return found
    if raw.startswith("tr/"):
        m = _TIME_RANGE.fullmatch(raw)
        if m is None:
            raise InvalidQuery(f'time range "{raw}" must be tr/<from millis>-<to millis>')
        return DateCmp((DateBound("$gte", _millis(m[1])), DateBound("$lt", _millis(m[2]))))
    reject_modifiers(raw, "date")
    prefix, value = split_comparator(raw)
    at = absolute(value)
    if at is not None:
        if prefix:
            return DateCmp((DateBound(_ABS_OPS[prefix], at),))
        return DateCmp((DateBound("$gte", at), DateBound("$lt", at + _DAY)))
    m = _DAYS.fullmatch(value)
    if m is not None:
        return DateCmp((DateBound(_AGE_OPS[prefix], days_ago=_days(m[1])),))
    m = _DAY_RANGE.fullmatch(value)
    if m is not None and not prefix:
        newest, oldest = _days(m[1]), _days(m[2])
        if newest >= oldest:
            raise InvalidQuery(f'invalid range "{raw}": the first age must be below the second')
        # "Ad-Bd": older than A days and younger than B days, both exclusive.
        return DateCmp((DateBound("$gt", days_ago=oldest), DateBound("$lt", days_ago=newest)))
    raise _bad(prefix, value)
