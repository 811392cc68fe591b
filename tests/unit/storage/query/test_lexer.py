"""Tokenisation tables: clause splitting, label/value pairs, value splitting, modifiers."""

from __future__ import annotations

import pytest

from storage.query.errors import InvalidQuery
from storage.query.lexer import (
    Modified,
    parse_modifiers,
    split_clauses,
    split_comparator,
    split_pair,
    split_values,
)


@pytest.mark.parametrize(
    ("query", "clauses"),
    [
        ("Image:nginx", ["Image:nginx"]),
        ("Deployment Label:label+label", ["Deployment Label:label+label"]),
        (
            "Deployment:attempted-alerts-dep-6+Policy:Kubernetes Actions: Exec into Pod",
            ["Deployment:attempted-alerts-dep-6", "Policy:Kubernetes Actions: Exec into Pod"],
        ),
        (
            "Deployment:d+Policy:Kubernetes Actions: Exec into Pod,hello+hi+New Deployment Label:v",
            [
                "Deployment:d",
                "Policy:Kubernetes Actions: Exec into Pod,hello+hi",
                "New Deployment Label:v",
            ],
        ),
        (
            'Deployment:field1,"field12+some:thing",field13+Category:"field2+something"',
            ['Deployment:field1,"field12+some:thing",field13', 'Category:"field2+something"'],
        ),
        (
            "Image:docker.io/library/nginx:latest,docker.io/library/redis:latest",
            ["Image:docker.io/library/nginx:latest,docker.io/library/redis:latest"],
        ),
        ("CVE:a+b:c", ["CVE:a", "b:c"]),  # a "+" followed by ":" always splits
        ("+Image:x", ["+Image:x"]),  # "+" at position 0 is not a separator
        ("Image:x + CVE:y", ["Image:x ", " CVE:y"]),  # spaces around "+" are trimmed later
        ("Image:a+", ["Image:a+"]),
        ("a+b+c", ["a+b+c"]),
        ("", [""]),
    ],
)
def test_split_clauses(query: str, clauses: list[str]) -> None:
    assert split_clauses(query) == clauses


@pytest.mark.parametrize(
    ("clause", "pair"),
    [
        ("Image:nginx", ("Image", "nginx")),
        ("  Image :  nginx  ", ("Image", "nginx")),
        ("Image:a:b:c", ("Image", "a:b:c")),  # split at the first ":"
        ("Image", None),  # no colon
        ("Image:", None),  # empty value
        ("Image:   ", None),
        (":value", ("", "value")),
    ],
)
def test_split_pair(clause: str, pair: tuple[str, str] | None) -> None:
    assert split_pair(clause) == pair


@pytest.mark.parametrize(
    ("values", "split"),
    [
        ("a", ["a"]),
        ("a,b", ["a", "b"]),
        (",a,b,", ["", "a", "b", ""]),
        (",", ["", ""]),
        ("a, b", ["a", " b"]),  # values are not trimmed
        ('"a,b",c', ['"a,b"', "c"]),  # quotes protect commas and are kept
        ('"', ['"']),
        ('"a,b', ['"a,b']),  # an unbalanced quote protects to the end
    ],
)
def test_split_values(values: str, split: list[str]) -> None:
    assert split_values(values) == split


def test_split_values_many_values_do_not_crash() -> None:
    values = split_values(",".join(["v"] * 70_000))
    assert len(values) == 70_000


@pytest.mark.parametrize(
    ("raw", "modified"),
    [
        ("nginx", Modified("nginx")),
        ("!nginx", Modified("nginx", negated=True)),
        ("!", Modified("!")),  # "!" alone is the literal "!"
        ("r/Ng.*X", Modified("ng.*x", regex=True)),  # regex bodies are lower-cased
        ("r/", Modified("r/")),  # nothing after "r/": literal
        ("!r/a.b", Modified("a.b", negated=True, regex=True)),
        ("r/!x", Modified("!x", regex=True)),
        ('"Test"', Modified("Test", exact=True)),
        ('""', Modified("", exact=True)),
        ('"', Modified('"')),  # a lone quote is a literal
        ('"test', Modified('"test')),
        ('!"x"', Modified("x", negated=True, exact=True)),
        ("!!", Modified("!", negated=True)),  # "!!" needs more characters to be a modifier
    ],
)
def test_parse_modifiers(raw: str, modified: Modified) -> None:
    assert parse_modifiers(raw) == modified


def test_at_least_one_modifier_is_rejected() -> None:
    with pytest.raises(InvalidQuery, match='"!!" modifier is not supported'):
        parse_modifiers("!!x")


@pytest.mark.parametrize(
    ("value", "split"),
    [
        ("<5", ("<", "5")),
        ("<= 5", ("<=", "5")),
        (">=5", (">=", "5")),
        ("==5", ("==", "5")),
        ("=5", ("=", "5")),
        (">  5", (">", "5")),
        ("5", ("", "5")),
    ],
)
def test_split_comparator(value: str, split: tuple[str, str]) -> None:
    assert split_comparator(value) == split
