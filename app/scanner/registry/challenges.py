"""`WWW-Authenticate` challenges (RFC 9110 §11.6.1): several per header, quoted parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SCHEME = re.compile(rf"[\s,]*({_TCHARS})")
_PARAM = re.compile(rf"[\s,]*({_TCHARS})\s*=\s*({_TCHARS}|{_QUOTED})?")
_TOKEN68 = re.compile(r"\s*[A-Za-z0-9\-._~+/]+=*(?=\s*(?:,|$))")
_SEPARATORS = re.compile(r"[\s,]*")
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lower case: "bearer", "basic", ...
    params: dict[str, str] = field(default_factory=dict)  # names lower case


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Every challenge in the given `WWW-Authenticate` header values, in order."""
    challenges: list[Challenge] = []
    for header in headers:
        challenges.extend(_parse_header(header))
    return challenges


def _parse_header(text: str) -> list[Challenge]:
    challenges: list[Challenge] = []
    position = 0
    while True:
        scheme = _SCHEME.match(text, position)
        if scheme is None:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        token68 = _TOKEN68.match(text, position)
        first = _PARAM.match(text, position)
        if token68 is not None and (first is None or not first.group(2)):
            position = token68.end()  # e.g. "Negotiate abc==": no parameters follow
        while (param := _PARAM.match(text, position)) is not None:
            params[param.group(1).lower()] = _unquote(param.group(2) or "")
            position = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
        position = _SEPARATORS.match(text, position).end()  # type: ignore[union-attr]
    return challenges


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return _ESCAPE.sub(r"\1", value[1:-1])
    return value
