"""Regular expressions: validation of user patterns and the patterns the translator emits."""

from __future__ import annotations

import re
from re import _parser as sre_parse  # type: ignore[attr-defined]

from storage.query.errors import InvalidQuery
from storage.query.regex_shapes import check_shape

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
    """Check a user pattern: length cap, RE2 subset, a shape that backtracking engines evaluate
    quickly (storage.query.regex_shapes), compiles (also in its negated form).

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
        check_shape(sre_parse.parse(pattern))
        re.compile(pattern)
        if negated:
            re.compile(not_regex(pattern))
    except re.error as exc:
        raise InvalidQuery(f'invalid regular expression "{pattern}": {exc}') from None


def prefix(text: str) -> str:
    """Anchored literal prefix (index-friendly on the lower-cased copies)."""
    return "^" + re.escape(text)


def prefix_range(text: str) -> dict[str, str]:
    """The strings that start with ``text``, as a range: the strings ``^text`` matches.

    nx-27017: it counts a ``$regex`` match by reading every document (13 s for 100k images),
    and serves a range from the index; MongoDB gives an anchored literal regex the same index
    bounds, so either form costs it the same.
    """
    bounds = {"$gte": text}
    upper = _after_prefix(text)
    if upper is not None:
        bounds["$lt"] = upper
    return bounds


def _after_prefix(text: str) -> str | None:
    """The least string above every string that starts with ``text`` (code point order, which
    is UTF-8 byte order: how both stores compare strings); None when there is none."""
    chars = list(text)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters: skip to the next one
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


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
