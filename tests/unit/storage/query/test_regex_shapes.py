"""Regex shapes: what backtracking engines evaluate slowly is refused, usual patterns pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.query import QueryContext, parse, to_filter
from storage.query.errors import InvalidQuery
from storage.query.patterns import prefix_range, validate_regex
from storage.query.regex_shapes import LONG_REPEAT, MAX_REPEATS

ADJACENT = "next to each other"
PAIRS = "more than one pair"
NESTED = "exponential time"


@pytest.mark.parametrize(
    "pattern",
    [
        "^nginx.*alpine$",
        ".*-dev",
        r"[0-9]+\.[0-9]+",
        r"[0-9]+\.[0-9]+\.[0-9]+-[a-z]+",
        "nginx.*alpine",
        ".*alpine.*",  # one pair that can trade characters (`alpine` is in both `.*`)
        ".*-.*",
        "[a-z]+-.*-.*x",  # one pair: `-` is not in [a-z]
        "^(nginx|redis):.*",
        "[a-z]+-[a-z]+-[a-z]+",  # `-` is in neither repeat: nothing to trade
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
        "a*b*",  # no character in common
        "[a-z]*[0-9]+[a-z]*",  # the required digits separate the letters
        "a?a?a?",  # optional, not repeated
        "x{2,3}x{2,3}",  # bounded repeats up to LONG_REPEAT do not count as unbounded
        "(ab)*c",
        "é*ü+x",  # different letters beyond ASCII
        "^(?:x|y)*$",  # compiled as the class [xy]: nothing alternates
    ],
)
def test_usual_patterns_are_accepted(pattern: str) -> None:
    validate_regex(pattern, max_length=256)


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        (".*.*", ADJACENT),
        (".*.*.*.*!", ADJACENT),  # the pattern
        ("a*a*a*a*b", ADJACENT),
        ("a*a*", ADJACENT),
        ("a+a*", ADJACENT),
        (r"\w*\d*", ADJACENT),
        (".*a*", ADJACENT),
        ("a*b?a*", ADJACENT),  # an optional item between does not separate them
        ("a*(?:b|)a*", ADJACENT),
        ("a*^a*", ADJACENT),  # anchors match no character
        ("(a*)(a*)", ADJACENT),  # groups do not separate either
        ("(?:x|.*).*", ADJACENT),  # an alternative that ends in a repeat
        ("A*a*", ADJACENT),  # letters in either case
        ("[^a]*[^b]*", ADJACENT),
        (r"[a-z]*\w+", ADJACENT),
        ("é*É*", ADJACENT),
        (r"\w*é*", ADJACENT),  # a class reaching past ASCII may hold any such letter
        (f".{{0,{LONG_REPEAT + 1}}}.{{0,{LONG_REPEAT + 1}}}", ADJACENT),
        (".*a.*b.*", PAIRS),  # three pairs: .*|a|.*, .*|b|.*, .*|a…b|.*
        (".*a.*a.*b", PAIRS),
        (".*-.*-.*x", PAIRS),
        ("(a+)+", NESTED),
        ("(.*.*)*#", NESTED),
        ("(ab|cd)*", NESTED),
        ("(?:a{1,3}){2}", NESTED),
        ("[a-z]+-" * MAX_REPEATS + "[a-z]+", f"more than {MAX_REPEATS} repeats"),
    ],
)
def test_slow_shapes_are_refused(pattern: str, fragment: str) -> None:
    with pytest.raises(InvalidQuery, match=fragment):
        validate_regex(pattern, max_length=256)


def test_the_refusal_says_a_leading_or_trailing_dot_star_is_not_needed() -> None:
    with pytest.raises(InvalidQuery, match="leading or trailing .* is not needed"):
        validate_regex(".*nginx.*alpine.*", max_length=256)
    validate_regex("nginx.*alpine", max_length=256)


@pytest.mark.parametrize("text", ["a*a*a*a*", ".*.*.*", "(a+)+", "x" * 300])
def test_prefix_text_is_escaped_not_checked(text: str) -> None:
    """A prefix value is literal text the translator escapes: no shape or length rule applies."""
    context = QueryContext(now=datetime.now(UTC), risk_scores_desc=())
    flt = to_filter(parse(f"Image:{text}"), context)
    assert flt == {"_search.full": prefix_range(text)}
