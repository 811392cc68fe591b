"""Parsing of one raw value for string, map, bool, number and enum fields."""

from __future__ import annotations

import math
import re

from storage.query.enums import EnumTable
from storage.query.errors import InvalidQuery
from storage.query.lexer import Modified, parse_modifiers, split_comparator
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

# Far beyond any score, count or rank; keeps rounding arithmetic finite.
MAX_NUMBER = 1e15
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "=": "$eq", "==": "$eq", "": "$eq"}
_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


def existence(raw: str) -> Exists | None:
    """``*`` and ``-`` are checked on the raw value, before any modifier."""
    if raw == "*":
        return Exists(True)
    if raw == "-":
        return Exists(False)
    return None


def reject_modifiers(raw: str, kind: str) -> None:
    """Numbers, dates and bools take no ``!``, ``r/`` or quotes.

    Raises:
        InvalidQuery: a modifier is present.
    """
    if not parse_modifiers(raw).plain:
        raise InvalidQuery(f"modifiers (!, r/, quotes) are not allowed for {kind} fields")


def text_of(mod: Modified, *, regex_max_length: int) -> Text:
    """A string match from a value whose modifiers were peeled off.

    Prefixes (and regexes, lower-cased by the lexer) match the lower-cased copies; an exact
    match keeps its text as typed, since ``"v"`` is case-sensitive equality (as upstream).
    """
    if mod.regex:
        validate_regex(mod.text, max_length=regex_max_length, negated=mod.negated)
        return Text(TextMode.REGEX, mod.text, mod.negated)
    if mod.exact:
        return Text(TextMode.EXACT, mod.text, mod.negated)
    return Text(TextMode.PREFIX, mod.text.lower(), mod.negated)


def parse_text(raw: str, *, regex_max_length: int) -> Text | Exists:
    """A string (or string-array) value."""
    return existence(raw) or text_of(parse_modifiers(raw), regex_max_length=regex_max_length)


def parse_map(raw: str, *, regex_max_length: int) -> LabelMatch | MatchAll:
    """A map value: ``*``, ``key``, ``key=``, ``=value``, ``key=value``, ``=`` (see §3.4).

    Raises:
        InvalidQuery: ``!key=value`` or a bad pattern.
    """
    if raw == "*":
        return MatchAll()
    key_raw, sep, value_raw = raw.partition("=")
    key_mod = parse_modifiers(key_raw) if key_raw else None
    absent = key_mod is not None and key_mod.negated
    if absent and value_raw:
        raise InvalidQuery('"!key=value" is not supported; use "key=!value"')
    key: Text | None = None
    if key_mod is not None:
        # "key=" (nothing after "=") asks for that exact key; otherwise keys match by prefix.
        exact = key_mod.exact or (bool(sep) and not value_raw)
        key_mod = Modified(key_mod.text, negated=False, regex=key_mod.regex, exact=exact)
        key = text_of(key_mod, regex_max_length=regex_max_length)
    value = None
    if value_raw:
        value = text_of(parse_modifiers(value_raw), regex_max_length=regex_max_length)
    return LabelMatch(key, value, absent)


def parse_bool(raw: str) -> BoolIs | Exists:
    """Go ParseBool forms, or a case-insensitive prefix of true/false.

    Raises:
        InvalidQuery: a modifier or anything else.
    """
    found = existence(raw)
    if found is not None:
        return found
    reject_modifiers(raw, "boolean")
    if raw in _GO_BOOLS:
        return BoolIs(_GO_BOOLS[raw])
    lowered = raw.lower()
    if lowered and "true".startswith(lowered):
        return BoolIs(True)
    if lowered and "false".startswith(lowered):
        return BoolIs(False)
    raise InvalidQuery(f'cannot parse "{raw}" as a boolean')


def number(text: str) -> float:
    """A decimal number rounded to 2 decimals, half away from zero (upstream rounds so).

    Raises:
        InvalidQuery: not a finite decimal number.
    """
    if not _NUMBER.fullmatch(text.strip()):
        raise InvalidQuery(f'cannot parse "{text}" as a number')
    value = float(text)
    if not math.isfinite(value):
        raise InvalidQuery(f'cannot parse "{text}" as a number')
    if abs(value) > MAX_NUMBER:
        raise InvalidQuery(f'number "{text}" is out of range (at most {MAX_NUMBER:g} in size)')
    return math.copysign(math.floor(abs(value) * 100 + 0.5), value) / 100


def parse_number(raw: str) -> Compare | Exists:
    """A comparison (``< <= > >= = ==``) with a number, a number, or an exclusive range ``a-b``.

    Raises:
        InvalidQuery: a modifier, an unparsable number or an empty range.
    """
    found = existence(raw)
    if found is not None:
        return found
    reject_modifiers(raw, "numeric")
    op, rest = split_comparator(raw)
    dash = raw.find("-", 1)
    if op or dash < 0:
        return Compare(((_OPS[op], number(rest)),))
    low, high = number(raw[:dash]), number(raw[dash + 1 :])
    if low >= high:
        raise InvalidQuery(f'invalid range "{raw}": the lower bound must be below the upper bound')
    return Compare((("$gt", low), ("$lt", high)))


def parse_enum(raw: str, table: EnumTable, *, regex_max_length: int) -> EnumIn | Exists:
    """Enum names matched lower-cased: by prefix, exactly, by regex, or compared by number.

    Raises:
        InvalidQuery: a modifier or comparison that matches no name, or a bad pattern.
    """
    found = existence(raw)
    if found is not None:
        return found
    names = table.lower_names()
    mod = parse_modifiers(raw)
    op, rest = split_comparator(mod.text) if mod.plain else ("", mod.text)
    if mod.regex:
        validate_regex(mod.text, max_length=regex_max_length)
        pattern = re.compile(mod.text)
        hits = {n for name, n in names.items() if pattern.search(name)}
    elif mod.exact:
        hits = {n for name, n in names.items() if name == mod.text.lower()}
    else:
        hits = {n for name, n in names.items() if name.startswith(rest.lower())}
    if not hits and (not mod.plain or op):
        raise InvalidQuery(f'no {table.name} name matches "{mod.text}"')
    if op:
        hits = _compare_enum(op, hits, set(names.values()))
    if mod.negated:
        hits = set(names.values()) - hits
    return EnumIn(frozenset(hits))


def _compare_enum(op: str, hits: set[int], every: set[int]) -> set[int]:
    """``>x`` is above the highest match, ``<x`` below the lowest, ``>=``/``<=`` inclusive."""
    low, high = min(hits), max(hits)
    if op == ">":
        return {n for n in every if n > high}
    if op == ">=":
        return {n for n in every if n >= low}
    if op == "<":
        return {n for n in every if n < low}
    if op == "<=":
        return {n for n in every if n <= high}
    return hits
