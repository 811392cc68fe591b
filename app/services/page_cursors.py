"""Keyset cursors of ListImages: an opaque token naming where the next page starts.

A cursor holds the sort it was made for (field, direction, aggregation, distinct), a hash of the
query text, and the sort-key values of the last row of its page (the tie-breaker included). It is
base64url of a small JSON document; nothing in it is secret, and a forged one can only name
another position in the same sort.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from app.errors import InvalidArgument

_VERSION = 1
# Far above any real cursor (a few sort keys, each a short string or a number).
MAX_CURSOR_CHARS = 4096


@dataclass(frozen=True, slots=True)
class SortSignature:
    """What a cursor is valid for: one query text under one sort option."""

    field: str
    reversed: bool
    aggregation: str
    distinct: bool
    query: str

    def token(self) -> list[Any]:
        digest = hashlib.blake2b(self.query.encode(), digest_size=8).hexdigest()
        return [self.field, self.reversed, self.aggregation.upper(), self.distinct, digest]


def encode(signature: SortSignature, position: Sequence[Any]) -> str:
    """The cursor of the page that starts after `position` (a row's sort-key values)."""
    body = {"v": _VERSION, "s": signature.token(), "p": list(position)}
    return base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode("ascii")


def decode(cursor: str, signature: SortSignature) -> list[Any]:
    """The position a cursor holds, checked against the request's query and sort.

    Raises:
        InvalidArgument: malformed, or made for another query or sort.
    """
    body = _body(cursor)
    if body.get("s") != signature.token():
        raise InvalidArgument(
            "pagination.cursor was made for another query or sort option: "
            "send the same query and sort as the request that returned it"
        )
    return list(body["p"])


def _body(cursor: str) -> dict[str, Any]:
    malformed = InvalidArgument("pagination.cursor is malformed: send a nextCursor unchanged")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise malformed
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise malformed from None
    if not (
        isinstance(body, dict)
        and body.get("v") == _VERSION
        and isinstance(body.get("s"), list)
        and isinstance(body.get("p"), list)
        and body["p"]
        and all(_scalar(value) for value in body["p"])
    ):
        raise malformed
    return body


def _scalar(value: Any) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))
