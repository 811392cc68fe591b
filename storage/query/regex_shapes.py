"""Regular expression shapes that backtracking engines evaluate slowly, refused before any runs.

Backtracking engines (Python's `re` inside nx-27017 and for enum names, PCRE in MongoDB) try
every way a pattern can match a value before they give up. That is exponential for a repeat of
something that itself repeats or alternates (`(a+)*`, `(a|b)*`), and a polynomial for repeats in
a row that can hand characters to each other: `a*a*a*a*b` tries every split of a run of `a`s
between four repeats (46 s in Python over 200 characters). Refused here:

- a repeat of a group that repeats or alternates (exponential);
- two unbounded repeats that can match a common character with nothing required between them:
  `.*.*`, `a*a*`, `a+a*`, `\\w*\\d*`, `.*a*`, `a*b?a*` (the optional `b?` does not separate them);
- more than one pair of unbounded repeats that can trade characters across what stands between
  them: `.*-.*` is one pair (`-` separates them, but `.` matches it too), `.*a.*b.*` three;
- more than MAX_REPEATS repeats in all.

"Unbounded" means `*`, `+`, `{n,}` and `{n,m}` with m above LONG_REPEAT. Character sets are
compared with both letter cases; beyond ASCII, classes and categories (`[^a]`, `\\w`, `[à-ÿ]`)
count as sharing a character with any set that reaches past ASCII: a doubtful pattern is
refused, never let through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from re import _constants as sre  # type: ignore[attr-defined]
from typing import Any

from storage.query.errors import InvalidQuery

MAX_REPEATS = 4
LONG_REPEAT = 16
MAX_OVERLAPS = 1

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT))
_ASCII = range(128)
_ALL_ASCII = (1 << 128) - 1


@dataclass(frozen=True, slots=True)
class Chars:
    """A set of characters: the ASCII ones exactly (a bit per code point), beyond ASCII the
    literals named and whether there may be any other (classes, categories, negations)."""

    ascii: int = 0
    literals: frozenset[str] = frozenset()
    wide: bool = False

    def __or__(self, other: Chars) -> Chars:
        return Chars(
            self.ascii | other.ascii, self.literals | other.literals, self.wide or other.wide
        )

    def __and__(self, other: Chars) -> Chars:
        literals = self.literals & other.literals
        literals |= (self.literals if other.wide else frozenset()) | (
            other.literals if self.wide else frozenset()
        )
        return Chars(self.ascii & other.ascii, literals, self.wide and other.wide)

    def __bool__(self) -> bool:
        return bool(self.ascii or self.literals) or self.wide


ANY = Chars(_ALL_ASCII, wide=True)


def _mask(pattern: str) -> int:
    matcher = re.compile(pattern)
    return sum(1 << c for c in _ASCII if matcher.fullmatch(chr(c)))


_CATEGORY_MASKS = {
    sre.CATEGORY_DIGIT: _mask(r"\d"),
    sre.CATEGORY_WORD: _mask(r"\w"),
    sre.CATEGORY_SPACE: _mask(r"\s"),
}
_CATEGORY_MASKS |= {
    sre.CATEGORY_NOT_DIGIT: _ALL_ASCII & ~_CATEGORY_MASKS[sre.CATEGORY_DIGIT],
    sre.CATEGORY_NOT_WORD: _ALL_ASCII & ~_CATEGORY_MASKS[sre.CATEGORY_WORD],
    sre.CATEGORY_NOT_SPACE: _ALL_ASCII & ~_CATEGORY_MASKS[sre.CATEGORY_SPACE],
}


def _both_cases(mask: int) -> int:
    for c in range(ord("a"), ord("z") + 1):
        upper = c - 32
        if mask & (1 << c) or mask & (1 << upper):
            mask |= (1 << c) | (1 << upper)
    return mask


def _literal(code: int) -> Chars:
    if code < 128:
        return Chars(_both_cases(1 << code))
    char = chr(code)
    return Chars(literals=frozenset({char, char.lower(), char.upper()}))


def _in(items: Any) -> Chars:
    """A character class `[...]`."""
    mask, wide, negated = 0, False, False
    literals: frozenset[str] = frozenset()
    for op, av in items:
        if op is sre.NEGATE:
            negated = True
        elif op is sre.LITERAL:
            single = _literal(av)
            mask, literals = mask | single.ascii, literals | single.literals
        elif op is sre.RANGE:
            low, high = av
            wide = wide or high >= 128
            mask |= sum(1 << c for c in range(low, min(high, 127) + 1))
        elif op is sre.CATEGORY:
            wide = True  # \d, \w, \s match beyond ASCII too
            mask |= _CATEGORY_MASKS.get(av, _ALL_ASCII)
        else:
            return ANY
    if negated:
        return Chars(_both_cases(_ALL_ASCII & ~mask), wide=True)
    return Chars(_both_cases(mask), literals, wide)


@dataclass(frozen=True, slots=True)
class _End:
    """An unbounded repeat at one end of a piece of pattern: what it matches, and the required
    (not optional) parts between it and that end."""

    chars: Chars
    between: tuple[Chars, ...] = ()

    def behind(self, piece: _Piece) -> _End:
        """The same repeat, seen from beyond `piece`."""
        return self if piece.nullable else _End(self.chars, (*self.between, piece.chars))


@dataclass(slots=True)
class _Piece:
    """What the checks need to know of a piece of pattern."""

    nullable: bool
    chars: Chars
    heads: list[_End] = field(default_factory=list)  # repeats that can match its start
    tails: list[_End] = field(default_factory=list)  # repeats that can match its end
    overlaps: int = 0  # pairs of repeats inside it that can trade characters


def check_shape(parsed: Any) -> None:
    """Refuse a parsed pattern (`re._parser.parse`) of a shape listed in the module docstring.

    Raises:
        InvalidQuery: naming the shape.
    """
    if _count_repeats(parsed) > MAX_REPEATS:
        raise InvalidQuery(
            f"regular expression has more than {MAX_REPEATS} repeats (*, +, {{n,m}})"
        )
    _check_nesting(parsed)
    if _sequence(parsed).overlaps > MAX_OVERLAPS:
        raise InvalidQuery(
            "regular expression has more than one pair of repeats that can match the same "
            "characters (e.g. .*a.*b.*), which can take very long; a leading or trailing .* "
            "is not needed, since a pattern matches anywhere in the value"
        )


def _is_repeat(op: Any, av: Any) -> bool:
    return op in _REPEATS and av[1] > 1


def _is_long(av: Any) -> bool:
    return bool(av[1] == sre.MAXREPEAT or av[1] > LONG_REPEAT)


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns directly inside one parsed item."""
    if op in _REPEATS:
        return [av[2]]
    if op is sre.SUBPATTERN:
        return [av[-1]]
    if op is sre.BRANCH:
        return list(av[1])
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[1]]
    if op is sre.GROUPREF_EXISTS:
        return [p for p in av[1:] if p is not None]
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return [av]
    return []


def _count_repeats(items: Any) -> int:
    return sum(
        _is_repeat(op, av) + sum(_count_repeats(child) for child in _children(op, av))
        for op, av in items
    )


def _has_branch_or_repeat(items: Any) -> bool:
    return any(
        op is sre.BRANCH
        or _is_repeat(op, av)
        or any(_has_branch_or_repeat(child) for child in _children(op, av))
        for op, av in items
    )


def _check_nesting(items: Any) -> None:
    for op, av in items:
        if _is_repeat(op, av) and _has_branch_or_repeat(av[2]):
            raise InvalidQuery(
                "regular expression repeats a group that itself repeats or alternates "
                "(e.g. (a+)* or (a|b)*), which can take exponential time"
            )
        for child in _children(op, av):
            _check_nesting(child)


def _sequence(items: Any) -> _Piece:
    """Pieces one after the other; refuses adjacent repeats that can match a common character."""
    whole = _Piece(nullable=True, chars=Chars())
    for op, av in items:
        piece = _item(op, av)
        for tail in whole.tails:
            for head in piece.heads:
                between = (*tail.between, *head.between)
                common = tail.chars & head.chars
                if not common or not all(part & common for part in between):
                    continue
                if not between:
                    raise InvalidQuery(
                        "regular expression has repeats next to each other that can match the "
                        "same characters (e.g. .*.* or a*a* or a*b?a*), which can take very long"
                    )
                whole.overlaps += 1
        whole = _Piece(
            nullable=whole.nullable and piece.nullable,
            chars=whole.chars | piece.chars,
            heads=whole.heads + [head.behind(whole) for head in piece.heads],
            tails=piece.tails + [tail.behind(piece) for tail in whole.tails],
            overlaps=whole.overlaps + piece.overlaps,
        )
    return whole


def _item(op: Any, av: Any) -> _Piece:
    if op is sre.LITERAL:
        return _Piece(nullable=False, chars=_literal(av))
    if op is sre.NOT_LITERAL or op is sre.ANY:
        return _Piece(nullable=False, chars=ANY)
    if op is sre.IN:
        return _Piece(nullable=False, chars=_in(av))
    if op is sre.AT:
        return _Piece(nullable=True, chars=Chars())
    if op is sre.SUBPATTERN:
        return _sequence(av[-1])
    if op is sre.BRANCH:
        return _alternatives([_sequence(alternative) for alternative in av[1]])
    if op in _REPEATS:
        low, _, body = av
        inner = _sequence(body)
        nullable = low == 0 or inner.nullable
        if _is_long(av):  # its body neither repeats nor alternates (_check_nesting)
            end = _End(inner.chars)
            return _Piece(nullable, inner.chars, heads=[end], tails=[end])
        return _Piece(nullable, inner.chars, inner.heads, inner.tails, inner.overlaps)
    # anything else (lookaround, conditionals) is refused earlier; assume the worst here
    return _Piece(nullable=True, chars=ANY)


def _alternatives(pieces: list[_Piece]) -> _Piece:
    """Alternatives are tried one after another: their costs add up, they do not multiply."""
    chars = Chars()
    for piece in pieces:
        chars |= piece.chars
    return _Piece(
        nullable=any(piece.nullable for piece in pieces),
        chars=chars,
        heads=[head for piece in pieces for head in piece.heads],
        tails=[tail for piece in pieces for tail in piece.tails],
        overlaps=max(piece.overlaps for piece in pieces),
    )
