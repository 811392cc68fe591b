"""Date values: time ranges, absolute layouts with zones, relative ages, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.query import InvalidQuery, QueryContext, parse, to_filter
from storage.query.dates import absolute, epoch_millis, parse_date
from storage.query.nodes import DateBound, DateCmp, Exists

NOW = datetime(2024, 6, 15, 12, 30, tzinfo=UTC)
DAY = timedelta(days=1)
CTX = QueryContext(now=NOW)
UPDATED = "_search.updated"  # Last Updated, in epoch milliseconds


def _ago(days: int) -> datetime:
    return NOW - days * DAY


def _filter(value: str) -> object:
    return to_filter(parse(f"Last Updated:{value}"), CTX)[UPDATED]


def _ms(expected: object) -> object:
    """Dates as the filter holds them: epoch milliseconds of the ``_search`` copies."""
    if isinstance(expected, dict):
        return {op: _ms(v) for op, v in expected.items()}
    return epoch_millis(expected) if isinstance(expected, datetime) else expected


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("01/02/2024", datetime(2024, 1, 2, tzinfo=UTC)),
        ("12/31/1999 UTC", datetime(1999, 12, 31, tzinfo=UTC)),
        ("01/02/2024 GMT", datetime(2024, 1, 2, tzinfo=UTC)),
        ("01/02/2024 EST", datetime(2024, 1, 2, 5, tzinfo=UTC)),
        ("07/04/2024 EDT", datetime(2024, 7, 4, 4, tzinfo=UTC)),
        ("01/02/2024 PST", datetime(2024, 1, 2, 8, tzinfo=UTC)),
        ("01/02/2024 3:04 PM", datetime(2024, 1, 2, 15, 4, tzinfo=UTC)),
        ("01/02/2024 3:04:05 PM", datetime(2024, 1, 2, 15, 4, 5, tzinfo=UTC)),
        ("01/02/2024 3:04:05 AM MST", datetime(2024, 1, 2, 10, 4, 5, tzinfo=UTC)),
        ("01/02/2024 12:00 AM", datetime(2024, 1, 2, 0, 0, tzinfo=UTC)),
        ("01/02/2024 12:00 PM CDT", datetime(2024, 1, 2, 17, 0, tzinfo=UTC)),
        ("01/02/2024 11:59 pm", datetime(2024, 1, 2, 23, 59, tzinfo=UTC)),
    ],
)
def test_absolute_layouts(text: str, instant: datetime) -> None:
    assert absolute(text) == instant


@pytest.mark.parametrize(
    "text",
    [
        "1/2/2024",  # month and day are two digits
        "2024-01-02",
        "13/01/2024",
        "02/30/2024",
        "01/02/2024 13:00 PM",
        "01/02/2024 3:04",  # AM/PM required with a time
        "01/02/2024 XYZ",
        "01/02/24",
    ],
)
def test_absolute_rejects(text: str) -> None:
    assert absolute(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # tr/<from>-<to>: [from, to)
        (
            "tr/1704067200000-1704153600000",
            {"$gte": datetime(2024, 1, 1, tzinfo=UTC), "$lt": datetime(2024, 1, 2, tzinfo=UTC)},
        ),
        # absolute without prefix: that 24h window
        (
            "01/02/2024",
            {"$gte": datetime(2024, 1, 2, tzinfo=UTC), "$lt": datetime(2024, 1, 3, tzinfo=UTC)},
        ),
        (
            "01/02/2024 EST",
            {
                "$gte": datetime(2024, 1, 2, 5, tzinfo=UTC),
                "$lt": datetime(2024, 1, 3, 5, tzinfo=UTC),
            },
        ),
        # absolute with prefix: plain comparison
        (">01/02/2024", {"$gt": datetime(2024, 1, 2, tzinfo=UTC)}),
        ("<01/02/2024", {"$lt": datetime(2024, 1, 2, tzinfo=UTC)}),
        (">=01/02/2024", {"$gte": datetime(2024, 1, 2, tzinfo=UTC)}),
        ("<= 01/02/2024", {"$lte": datetime(2024, 1, 2, tzinfo=UTC)}),
        ("=01/02/2024", datetime(2024, 1, 2, tzinfo=UTC)),
        # relative ages: the prefix is inverted
        ("1", _ago(1)),
        ("1d", _ago(1)),
        ("=1d", _ago(1)),
        ("0d", NOW),
        (">1", {"$lte": _ago(1)}),
        (">30d", {"$lte": _ago(30)}),
        ("<30d", {"$gte": _ago(30)}),
        (">=30d", {"$lt": _ago(30)}),
        ("<=30d", {"$gt": _ago(30)}),
        ("-1d", _ago(-1)),
        # relative ranges: exclusive
        ("1-10", {"$gt": _ago(10), "$lt": _ago(1)}),
        ("1d-10d", {"$gt": _ago(10), "$lt": _ago(1)}),
        ("-1d-10d", {"$gt": _ago(10), "$lt": _ago(-1)}),
    ],
)
def test_date_filters(value: str, expected: object) -> None:
    assert _filter(value) == _ms(expected)


@pytest.mark.parametrize(("value", "present"), [("*", True), ("-", False)])
def test_date_existence(value: str, present: bool) -> None:
    assert parse_date(value) == Exists(present)


def test_relative_dates_resolve_against_the_context_clock() -> None:
    assert parse_date(">2d") == DateCmp((DateBound("$lte", days_ago=2),))
    later = QueryContext(now=NOW + DAY)
    assert to_filter(parse("Last Updated:>2d"), later) == {UPDATED: _ms({"$lte": _ago(1)})}


def test_naive_now_is_taken_as_utc() -> None:
    naive = QueryContext(now=NOW.replace(tzinfo=None))
    assert to_filter(parse("Last Updated:1d"), naive) == {UPDATED: _ms(_ago(1))}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (">lol", "invalid time query (prefix: >, value: lol). Must be of the format "
                 "(01/02/2006 or 1d)"),
        ("lol", "invalid time query (prefix: , value: lol)"),
        ("1h", "invalid time query (prefix: , value: 1h)"),
        ("1.5d", "invalid time query"),
        (">1d-10d", "invalid time query (prefix: >, value: 1d-10d)"),
        ("10d-1d", 'invalid range "10d-1d"'),
        ("5-5", 'invalid range "5-5"'),
        ("tr/5", "must be tr/<from millis>-<to millis>"),
        ("tr/a-b", "must be tr/<from millis>-<to millis>"),
        ("tr/0-99999999999999999999", "out of range"),
        ("9999999d", "out of range"),
        ("!1d", "modifiers (!, r/, quotes) are not allowed for date fields"),
        ("r/1", "modifiers"),
        ('"01/02/2024"', "modifiers"),
    ],
)  # fmt: skip
def test_date_errors(value: str, fragment: str) -> None:
    with pytest.raises(InvalidQuery) as err:
        parse(f"Image Created Time:{value}")
    assert err.value.message.startswith(f'invalid value "{value}" for "Image Created Time": ')
    assert fragment in err.value.message


def test_pair_level_dates_go_into_the_pair_match_in_epoch_milliseconds() -> None:
    assert to_filter(parse("CVE Published On:>7d"), CTX) == {
        "_search.pairs": {"$elemMatch": {"v": True, "pub": {"$lte": epoch_millis(_ago(7))}}}
    }
