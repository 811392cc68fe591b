"""``parse``: query text → validated ``Query`` (labels resolved, every value typed)."""

from __future__ import annotations

from storage.query.dates import parse_date
from storage.query.errors import InvalidQuery
from storage.query.fields import Field, Kind, lookup
from storage.query.lexer import split_clauses, split_pair, split_values
from storage.query.nodes import Clause, Exists, Predicate, Query
from storage.query.values import parse_bool, parse_enum, parse_map, parse_number, parse_text

# Caps against oversized queries (the HTTP layer bounds the URL too; these bound the filter).
MAX_CLAUSES = 100
MAX_VALUES = 100_000


# Values quoted back in error messages are cut to this length.
_SHOWN = 80


def parse(text: str, *, regex_max_length: int = 256) -> Query:
    """Parse a search query.

    An empty or blank query matches everything. Deliberate deviations from upstream: unknown
    labels, deployment-context labels, bad values and a non-empty query without any clause raise
    instead of being dropped (a typo must not turn into "match everything", e.g. for DELETE).

    Raises:
        InvalidQuery: see above; the message names the offending label or value.
    """
    if not text.strip():
        return Query()
    if "\x00" in text:
        raise InvalidQuery("query contains a NUL character")
    raw: dict[str, str] = {}
    for piece in split_clauses(text):
        pair = split_pair(piece)
        if pair is not None:
            label, values = pair
            raw[label] = values  # the same label as typed: the last one wins (upstream)
    if not raw:
        raise InvalidQuery(
            f'query "{text}" has no field clause: expected "Field:value" clauses joined by "+"'
        )
    if len(raw) > MAX_CLAUSES:
        raise InvalidQuery(f"query has more than {MAX_CLAUSES} clauses")
    split = {label: split_values(values) for label, values in raw.items()}
    if sum(len(values) for values in split.values()) > MAX_VALUES:
        raise InvalidQuery(f"query has more than {MAX_VALUES} values")
    return Query(tuple(_clause(label, values, regex_max_length) for label, values in split.items()))


def _clause(label: str, values: list[str], regex_max_length: int) -> Clause:
    field = lookup(label)
    parsed = tuple(_value(field, raw, regex_max_length) for raw in values)
    if field.array is not None and Exists(False) in parsed and len(parsed) > 1:
        # "-" on a joined field means "the image has no such row"; it is an image-level test
        # and cannot be ORed with row-level values inside the same $elemMatch.
        raise InvalidQuery(f'"-" cannot be combined with other values for "{field.label}"')
    return Clause(label, field, parsed)


def _value(field: Field, raw: str, regex_max_length: int) -> Predicate:
    try:
        return _typed(field, raw, regex_max_length)
    except InvalidQuery as exc:
        shown = raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "…"
        raise InvalidQuery(f'invalid value "{shown}" for "{field.label}": {exc.message}') from None


def _typed(field: Field, raw: str, regex_max_length: int) -> Predicate:
    kind = field.kind
    if kind in (Kind.STRING, Kind.STRINGS):
        return parse_text(raw, regex_max_length=regex_max_length)
    if kind is Kind.MAP:
        return parse_map(raw, regex_max_length=regex_max_length)
    if kind is Kind.BOOL:
        return parse_bool(raw)
    if kind is Kind.NUMBER:
        return parse_number(raw)
    if kind is Kind.DATE:
        return parse_date(raw)
    assert field.enum is not None  # registry invariant: every ENUM field names its table
    return parse_enum(raw, field.enum, regex_max_length=regex_max_length)
