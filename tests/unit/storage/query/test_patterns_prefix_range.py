"""A prefix value as a range of strings: the same strings as the anchored literal regex."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.query.patterns import prefix, prefix_range


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("debian", {"$gte": "debian", "$lt": "debiao"}),
        ("", {"$gte": ""}),
        ("a\U0010ffff", {"$gte": "a\U0010ffff", "$lt": "b"}),
        ("\U0010ffff\U0010ffff", {"$gte": "\U0010ffff\U0010ffff"}),
        ("x\ud7ff", {"$gte": "x\ud7ff", "$lt": "x\ue000"}),
    ],
)
def test_the_range_ends_at_the_least_string_after_the_prefix(
    text: str, expected: dict[str, str]
) -> None:
    assert prefix_range(text) == expected


def _in_range(value: str, bounds: dict[str, str]) -> bool:
    # code point order, as both stores compare strings (UTF-8 byte order)
    below = "$lt" not in bounds or value.encode("utf-8") < bounds["$lt"].encode("utf-8")
    return value.encode("utf-8") >= bounds["$gte"].encode("utf-8") and below


_CHARS = st.characters(codec="utf-8", categories=None) | st.sampled_from(
    ["a", "b", "\ud7ff", "\ue000", "\U0010ffff", "\x00"]
)


@given(st.text(_CHARS, max_size=4), st.text(_CHARS, max_size=6))
def test_a_string_is_in_the_range_exactly_when_the_regex_matches_it(text: str, value: str) -> None:
    regex = re.compile(prefix(text), re.DOTALL)
    assert _in_range(value, prefix_range(text)) == bool(regex.match(value))
    assert _in_range(text + value, prefix_range(text))
