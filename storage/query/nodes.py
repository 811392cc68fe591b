"""Parsed query: clauses of typed value predicates, independent of MongoDB."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from storage.query.fields import Field


class TextMode(enum.Enum):
    """How a string value matches."""

    PREFIX = "prefix"
    EXACT = "exact"
    REGEX = "regex"


@dataclass(frozen=True)
class Exists:
    """``*`` (present=True: the value is set) or ``-`` (present=False: it is not)."""

    present: bool


@dataclass(frozen=True)
class MatchAll:
    """A value that matches every image (``*`` on a map field)."""


@dataclass(frozen=True)
class Text:
    """A string match: ``text`` is lower-cased for a prefix or regex, as typed when exact."""

    mode: TextMode
    text: str
    negated: bool = False


@dataclass(frozen=True)
class LabelMatch:
    """A map entry match (``key=value``); ``absent`` negates the whole entry test."""

    key: Text | None
    value: Text | None
    absent: bool = False


@dataclass(frozen=True)
class Compare:
    """Numeric comparisons ANDed together: ((operator, operand), …); operators $eq/$gt/…"""

    ops: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class BoolIs:
    """Exact boolean equality."""

    value: bool


@dataclass(frozen=True)
class EnumIn:
    """The set of enum numbers a value stands for (empty: matches nothing)."""

    numbers: frozenset[int]


@dataclass(frozen=True)
class DateBound:
    """One comparison against an absolute instant or against ``now - days_ago`` days."""

    op: str
    at: datetime | None = None
    days_ago: int | None = None


@dataclass(frozen=True)
class DateCmp:
    """Date comparisons ANDed together."""

    bounds: tuple[DateBound, ...]


Predicate = Exists | MatchAll | Text | LabelMatch | Compare | BoolIs | EnumIn | DateCmp


@dataclass(frozen=True)
class Clause:
    """One ``Label:v1,v2`` clause: the values are ORed."""

    label: str
    field: Field
    values: tuple[Predicate, ...]


@dataclass(frozen=True)
class Query:
    """A parsed query: clauses are ANDed; no clause means match everything."""

    clauses: tuple[Clause, ...] = ()

    @property
    def uses_priority(self) -> bool:
        """True when translating needs ``QueryContext.risk_scores_desc``."""
        return any(c.field.ranked for c in self.clauses)
