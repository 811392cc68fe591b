"""Regular expressions: validation of user patterns and the patterns the translator emits."""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from storage.query.errors import InvalidQuery

# Backtracking engines (MongoDB's PCRE, Python's re for enum names) take exponential time on
# a repeat that contains another repeat or an alternation, e.g. `(.*.*)*x`, and polynomial time
# of degree k on k unbounded repeats in a row; both are bounded here before any engine runs.
MAX_UNBOUNDED_REPEATS = 4
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT))
# Escapes Python accepts but PCRE does not, so the database would refuse the pattern.
_PYTHON_ONLY_ESCAPES = re.compile(r"(?<!\\)(?:\\\\)*\\[uUN]")

# Upstream patterns must compile as Go RE2; RE2 has no backreferences or lookaround, and keeping
# them out also keeps catastrophic backtracking out of the database's PCRE engine.
_UNSUPPORTED_GROUPS = ("(?=", "(?!", "(?<=", "(?<!", "(?P=", "(?>")


def _re2_violation(pattern: str) -> str | None:
    """Name the first construct RE2 rejects (backreference, lookaround), None if none."""
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not in_class and nxt and nxt in "123456789":
                return "backreferences"
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1
            i += pattern.startswith("^", i)
            i += pattern.startswith("]", i)  # "[]…]" and "[^]…]": the first "]" is literal
            continue
        elif pattern.startswith(_UNSUPPORTED_GROUPS, i):
            return "lookaround and atomic groups"
        i += 1
    return None


def validate_regex(pattern: str, *, max_length: int, negated: bool = False) -> None:
    """Check a user pattern: length cap, RE2 subset, compiles (also in its negated form).

    Raises:
        InvalidQuery: the pattern is too long, uses unsupported constructs or does not compile.
    """
    if len(pattern) > max_length:
        raise InvalidQuery(f"regular expression is longer than {max_length} characters")
    violation = _re2_violation(pattern)
    if violation is not None:
        raise InvalidQuery(f"regular expression uses {violation}, which are not supported")
    if _PYTHON_ONLY_ESCAPES.search(pattern):
        raise InvalidQuery(r"regular expression uses \u, \U or \N escapes, which are not supported")
    try:
        _check_backtracking(sre_parse.parse(pattern))
        re.compile(pattern)
        if negated:
            re.compile(not_regex(pattern))
    except re.error as exc:
        raise InvalidQuery(f'invalid regular expression "{pattern}": {exc}') from None


def _is_unbounded_repeat(op: Any, av: Any) -> bool:
    return op in _REPEATS and av[1] > 1


def _repeats_inside(items: Any) -> tuple[int, bool]:
    """Unbounded repeats in a parsed pattern, and whether any branch occurs in it."""
    count, branch = 0, False
    for op, av in items:
        if op in _REPEATS:
            inner, inner_branch = _repeats_inside(av[2])
            count += inner + (av[1] > 1)
            branch = branch or inner_branch
        elif op is sre.SUBPATTERN:
            inner, inner_branch = _repeats_inside(av[-1])
            count, branch = count + inner, branch or inner_branch
        elif op is sre.BRANCH:
            branch = True
            for alternative in av[1]:
                inner, _ = _repeats_inside(alternative)
                count += inner
    return count, branch


def _check_backtracking(parsed: Any) -> None:
    """Refuse patterns whose worst case is exponential or of a high polynomial degree."""
    total, _ = _repeats_inside(parsed)
    if total > MAX_UNBOUNDED_REPEATS:
        raise InvalidQuery(
            f"regular expression has more than {MAX_UNBOUNDED_REPEATS} repeats (*, +, {{n,}})"
        )
    _check_nesting(parsed)


def _check_nesting(items: Any) -> None:
    for op, av in items:
        if _is_unbounded_repeat(op, av):
            inner, branch = _repeats_inside(av[2])
            if inner or branch:
                raise InvalidQuery(
                    "regular expression repeats a group that itself repeats or alternates "
                    "(e.g. (a+)* or (a|b)*), which can take exponential time"
                )
        if op in _REPEATS:
            _check_nesting(av[2])
        elif op is sre.SUBPATTERN:
            _check_nesting(av[-1])
        elif op is sre.BRANCH:
            for alternative in av[1]:
                _check_nesting(alternative)


def prefix(text: str) -> str:
    """Anchored literal prefix (index-friendly on the lower-cased copies)."""
    return "^" + re.escape(text)


def any_prefix(texts: list[str]) -> str:
    """Anchored alternation of literal prefixes."""
    return "^(?:" + "|".join(re.escape(t) for t in texts) + ")"


def not_prefix(text: str) -> str:
    """A string that does not start with ``text``.

    Used where ``$nor``/``$not`` cannot go: inside ``$elemMatch`` and on arrays of strings.
    """
    return "^(?!" + re.escape(text) + ")"


def not_regex(pattern: str) -> str:
    """A string in which ``pattern`` matches nowhere (same use as ``not_prefix``)."""
    return "^(?![\\s\\S]*?(?:" + pattern + "))"
