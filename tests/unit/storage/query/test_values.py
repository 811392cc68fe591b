"""Value parsing per field type: strings, maps, bools, numbers, enums, regex validation."""

from __future__ import annotations

import pytest

from storage.query.enums import (
    LAYER_TYPE,
    SOURCE_TYPE,
    VULNERABILITY_SEVERITY,
    VULNERABILITY_STATE,
    EnumTable,
)
from storage.query.errors import InvalidQuery
from storage.query.nodes import (
    BoolIs,
    Compare,
    EnumIn,
    Exists,
    LabelMatch,
    MatchAll,
    Text,
    TextMode,
)
from storage.query.patterns import validate_regex
from storage.query.values import parse_bool, parse_enum, parse_map, parse_number, parse_text

P, E, R = TextMode.PREFIX, TextMode.EXACT, TextMode.REGEX


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("Docker.IO/Library", Text(P, "docker.io/library")),
        ("!stackrox.io", Text(P, "stackrox.io", negated=True)),
        ('"Docker.io/X:1"', Text(E, "Docker.io/X:1")),  # exact: case-sensitive, kept as typed
        ('!"X"', Text(E, "X", negated=True)),
        ('""', Text(E, "")),
        ("r/.*NGINX.*", Text(R, ".*nginx.*")),
        ("!r/^quay", Text(R, "^quay", negated=True)),
        ("", Text(P, "")),
        ("*", Exists(True)),
        ("-", Exists(False)),
        ("a*b", Text(P, "a*b")),  # "*" inside a value is literal
        ('"', Text(P, '"')),
    ],
)
def test_parse_text(raw: str, parsed: object) -> None:
    assert parse_text(raw, regex_max_length=256) == parsed


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("*", MatchAll()),
        ("maintainer", LabelMatch(Text(P, "maintainer"), None)),
        ("Maintainer=NGINX", LabelMatch(Text(P, "maintainer"), Text(P, "nginx"))),
        ("app=", LabelMatch(Text(E, "app"), None)),
        ("!app=", LabelMatch(Text(E, "app"), None, absent=True)),
        ("!app", LabelMatch(Text(P, "app"), None, absent=True)),
        ("=val", LabelMatch(None, Text(P, "val"))),
        ("=", LabelMatch(None, None)),
        ("app=!web", LabelMatch(Text(P, "app"), Text(P, "web", negated=True))),
        ("r/^a.p=", LabelMatch(Text(R, "^a.p"), None)),
        ('"app"=r/w.b', LabelMatch(Text(E, "app"), Text(R, "w.b"))),
        ("App=", LabelMatch(Text(E, "App"), None)),  # "key=" is an exact key, as typed
        ('Maintainer="NGINX"', LabelMatch(Text(P, "maintainer"), Text(E, "NGINX"))),
        ("-", LabelMatch(Text(P, "-"), None)),  # "-" is an ordinary key prefix for maps
        ("a=b=c", LabelMatch(Text(P, "a"), Text(P, "b=c"))),
    ],
)
def test_parse_map(raw: str, parsed: object) -> None:
    assert parse_map(raw, regex_max_length=256) == parsed


def test_parse_map_rejects_negated_key_with_value() -> None:
    with pytest.raises(InvalidQuery, match='"!key=value" is not supported'):
        parse_map("!app=web", regex_max_length=256)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        *[(v, True) for v in ("1", "t", "T", "TRUE", "true", "True", "tr", "TrU", "tRuE")],
        *[(v, False) for v in ("0", "f", "F", "FALSE", "false", "False", "fal", "FA", "fAlSe")],
    ],
)
def test_parse_bool(raw: str, value: bool) -> None:
    assert parse_bool(raw) == BoolIs(value)


@pytest.mark.parametrize(("raw", "present"), [("*", True), ("-", False)])
def test_parse_bool_existence(raw: str, present: bool) -> None:
    assert parse_bool(raw) == Exists(present)


@pytest.mark.parametrize("raw", ["", "yes", "truex", "2", "ff"])
def test_parse_bool_rejects_other_words(raw: str) -> None:
    with pytest.raises(InvalidQuery, match="as a boolean"):
        parse_bool(raw)


@pytest.mark.parametrize("raw", ["!true", "r/t", '"true"'])
def test_parse_bool_rejects_modifiers(raw: str) -> None:
    with pytest.raises(InvalidQuery, match="modifiers .* are not allowed for boolean fields"):
        parse_bool(raw)


@pytest.mark.parametrize(
    ("raw", "ops"),
    [
        ("5", (("$eq", 5.0),)),
        ("=5", (("$eq", 5.0),)),
        ("==5", (("$eq", 5.0),)),
        ("<5", (("$lt", 5.0),)),
        ("<=5", (("$lte", 5.0),)),
        (">5", (("$gt", 5.0),)),
        (">=5", (("$gte", 5.0),)),
        (">= 7.5", (("$gte", 7.5),)),
        ("-1", (("$eq", -1.0),)),
        ("<-1.5", (("$lt", -1.5),)),
        ("4.60", (("$eq", 4.6),)),
        ("2.992", (("$eq", 2.99),)),
        ("2.995", (("$eq", 3.0),)),  # half away from zero
        ("-2.995", (("$eq", -3.0),)),
        (".5", (("$eq", 0.5),)),
        ("1e1", (("$eq", 10.0),)),
        ("1-2", (("$gt", 1.0), ("$lt", 2.0))),
        ("1.2-2.992", (("$gt", 1.2), ("$lt", 2.99))),
        ("-2--1", (("$gt", -2.0), ("$lt", -1.0))),
        ("-2-1", (("$gt", -2.0), ("$lt", 1.0))),
    ],
)
def test_parse_number(raw: str, ops: tuple[tuple[str, float], ...]) -> None:
    assert parse_number(raw) == Compare(ops)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1-1", 'invalid range "1-1"'),
        ("2-1", 'invalid range "2-1"'),
        ("-1--2", 'invalid range "-1--2"'),
        ("abc", 'cannot parse "abc" as a number'),
        ("", 'cannot parse "" as a number'),
        (">", 'cannot parse "" as a number'),
        ("1_000", 'cannot parse "1_000" as a number'),
        ("nan", 'cannot parse "nan" as a number'),
        ("inf", 'cannot parse "inf" as a number'),
        ("1e999", 'cannot parse "1e999" as a number'),
        ("a-2", 'cannot parse "a" as a number'),
        ("!5", "modifiers (!, r/, quotes) are not allowed for numeric fields"),
        ("r/5", "modifiers"),
        ('"5"', "modifiers"),
    ],
)
def test_parse_number_errors(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidQuery) as err:
        parse_number(raw)
    assert fragment in err.value.message


@pytest.mark.parametrize(("raw", "present"), [("*", True), ("-", False)])
def test_parse_number_existence(raw: str, present: bool) -> None:
    assert parse_number(raw) == Exists(present)


SEV = VULNERABILITY_SEVERITY


@pytest.mark.parametrize(
    ("raw", "numbers"),
    [
        ("CRITICAL", {4}),
        ("crit", {4}),
        ("IMPORTANT", {3}),
        ("", {0, 1, 2, 3, 4}),
        ("zzz", set()),  # no match without modifier: matches nothing, no error
        ("4", set()),  # names only
        ('"CRITICAL_VULNERABILITY_SEVERITY"', {4}),
        ('"critical_vulnerability_severity"', {4}),  # names compare lower-cased (upstream)
        ("!CRITICAL", {0, 1, 2, 3}),
        ('!"LOW_VULNERABILITY_SEVERITY"', {0, 2, 3, 4}),
        ("r/^(low|crit)", {1, 4}),
        ("r/moderate", {2}),
        ("!r/severity$", set()),
        (">=IMPORTANT", {3, 4}),
        (">IMPORTANT", {4}),
        ("<IMPORTANT", {0, 1, 2}),
        ("<=IMPORTANT", {0, 1, 2, 3}),
        ("=LOW", {1}),
        ("==LOW", {1}),
        (">= low", {1, 2, 3, 4}),
    ],
)
def test_parse_severity(raw: str, numbers: set[int]) -> None:
    assert parse_enum(raw, SEV, regex_max_length=256) == EnumIn(frozenset(numbers))


@pytest.mark.parametrize(
    ("table", "raw", "numbers"),
    [
        (VULNERABILITY_STATE, "OBSERVED", {0}),
        (VULNERABILITY_STATE, "!OBSERVED", {1, 2}),
        (VULNERABILITY_STATE, "f", {2}),
        (SOURCE_TYPE, "go", {7}),
        (SOURCE_TYPE, "!OS", {1, 2, 3, 4, 5, 6, 7}),
        (SOURCE_TYPE, ">=NODEJS", {4, 5, 6, 7}),
        (LAYER_TYPE, "BASE", {1}),
        (LAYER_TYPE, "app", {0}),
    ],
)
def test_parse_other_enums(table: EnumTable, raw: str, numbers: set[int]) -> None:
    assert parse_enum(raw, table, regex_max_length=256) == EnumIn(frozenset(numbers))


@pytest.mark.parametrize("raw", ["!zzz", "r/zzz", '"CRITICAL"', ">zzz", "!>=IMPORTANT"])
def test_parse_enum_no_match_under_modifier_is_an_error(raw: str) -> None:
    with pytest.raises(InvalidQuery, match="no VulnerabilitySeverity name matches"):
        parse_enum(raw, SEV, regex_max_length=256)


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("[", "invalid regular expression"),
        ("a{2,1}", "invalid regular expression"),
        ("(a)\\1", "backreferences"),
        ("(?=a)", "lookaround"),
        ("(?!a)", "lookaround"),
        ("(?<=a)b", "lookaround"),
        ("(?<!a)b", "lookaround"),
        ("(?P<n>a)(?P=n)", "lookaround"),
        ("(?>a)", "lookaround"),
        ("a" * 257, "longer than 256 characters"),
    ],
)
def test_validate_regex_rejects(pattern: str, fragment: str) -> None:
    with pytest.raises(InvalidQuery, match=fragment.replace("(", r"\(")):
        validate_regex(pattern, max_length=256)


@pytest.mark.parametrize(
    "pattern",
    ["a|b", "^quay\\.io/.*", "[(?=]", "\\\\1", "[\\1]", "[]1]", "x{2,3}", "(?P<n>a)", "a" * 256],
)
def test_validate_regex_accepts(pattern: str) -> None:
    validate_regex(pattern, max_length=256)


def test_validate_regex_checks_the_negated_form() -> None:
    validate_regex("(?i)abc", max_length=256)  # a global flag is fine at the start…
    with pytest.raises(InvalidQuery, match="invalid regular expression"):
        validate_regex("(?i)abc", max_length=256, negated=True)  # …not inside the lookahead
