"""Tokenisation of the query text: clauses, label/value pairs, values and value modifiers."""

from __future__ import annotations

from dataclasses import dataclass

from storage.query.errors import InvalidQuery


def split_clauses(query: str) -> list[str]:
    """Split on ``+`` only where a ``:`` follows before any other ``+`` (quotes protect).

    When several ``+`` precede a ``:`` only the last one splits; a ``+`` at position 0 is not a
    separator. So a value may contain ``+`` as long as no ``:`` follows it.
    """
    clauses: list[str] = []
    start, plus, quoted = 0, -1, False
    for i, ch in enumerate(query):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "+" and i != 0:
            plus = i
        elif ch == ":" and plus >= 0:
            clauses.append(query[start:plus])
            start, plus = plus + 1, -1
    clauses.append(query[start:])
    return clauses


def split_pair(clause: str) -> tuple[str, str] | None:
    """Split ``label:values`` at the first ``:``; None when there is no ``:`` or no value."""
    label, sep, values = clause.strip().partition(":")
    label, values = label.strip(), values.strip()
    if not sep or not values:
        return None
    return label, values


def split_values(values: str) -> list[str]:
    """Split on ``,`` outside double quotes; quotes and empty values are kept, nothing trimmed."""
    out: list[str] = []
    start, quoted = 0, False
    for i, ch in enumerate(values):
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append(values[start:i])
            start = i + 1
    out.append(values[start:])
    return out


@dataclass(frozen=True)
class Modified:
    """A value with its modifiers removed; a regex body is lower-cased (upstream does so)."""

    text: str
    negated: bool = False
    regex: bool = False
    exact: bool = False

    @property
    def plain(self) -> bool:
        """True when no modifier was given."""
        return not (self.negated or self.regex or self.exact)


def parse_modifiers(raw: str) -> Modified:
    """Peel ``!``, ``r/`` and ``"…"`` off a value, in upstream's order.

    Raises:
        InvalidQuery: ``!!`` (at-least-one), which upstream does not support either.
    """
    text, negated = raw, False
    if text.startswith("!!") and len(text) > 2:
        raise InvalidQuery('the "!!" modifier is not supported')
    if text.startswith("!") and len(text) > 1:
        text, negated = text[1:], True
    if text.startswith("r/") and len(text) > 2:
        return Modified(text[2:].lower(), negated=negated, regex=True)
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return Modified(text[1:-1], negated=negated, exact=True)
    return Modified(text, negated=negated)


COMPARATORS: tuple[str, ...] = ("<=", ">=", "==", "<", ">", "=")


def split_comparator(value: str) -> tuple[str, str]:
    """Split a leading ``<= >= == < > =`` off the value; whitespace after it is dropped."""
    for op in COMPARATORS:
        if value.startswith(op):
            return op, value[len(op) :].strip()
    return "", value
