"""``parse``: query text → validated ``Query`` (labels resolved, every value typed)."""

from __future__ import annotations

from storage.query.dates import parse_date
from storage.query.errors import InvalidQuery
from storage.query.fields import Field, Kind, lookup
from storage.query.lexer import split_clauses, split_pair, split_values
from storage.query.nodes import Clause, Exists, Predicate, Query
from storage.query.values import parse_bool, parse_enum, parse_map, parse_number, parse_text

# Caps against queries that are expensive by construction: a store may evaluate every value
# against every document (nx-27017 runs an image-level clause as one regex per value, ~8 ms per
# value per 3,000 images, and past 512 distinct regexes Python's pattern cache thrashes: 1,000
# values took 80 s). Within these caps a query costs ~2-4 s there at 3,000 images, well under
# the default deadline (IMAGE_SERVICE_QUERY_TIMEOUT_MS, 15 s).
MAX_CLAUSES = 20
MAX_VALUES_PER_CLAUSE = 100
MAX_VALUES = 200


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
    for label, parts in split.items():
        if len(parts) > MAX_VALUES_PER_CLAUSE:
            raise InvalidQuery(
                f'"{_shown(label)}" has more than {MAX_VALUES_PER_CLAUSE} values '
                "(split the query, or use a prefix or a regular expression)"
            )
    if sum(len(values) for values in split.values()) > MAX_VALUES:
        raise InvalidQuery(f"query has more than {MAX_VALUES} values in all its clauses")
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
        raise InvalidQuery(
            f'invalid value "{_shown(raw)}" for "{field.label}": {exc.message}'
        ) from None


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


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
