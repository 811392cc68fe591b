"""The `api_tokens` collection: API tokens by id, found by the hash of their secret."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from storage.mongo import API_TOKENS, guarded


@dataclass(frozen=True, slots=True)
class TokenMetadata:
    """Everything known about a token but its secret."""

    id: str
    name: str
    roles: tuple[str, ...]
    issued_at: datetime
    expiration: datetime | None
    revoked: bool


class TokenRepository:
    """One document per token: `hash` is the sha256 (hex) of its secret, never the secret.

    Documents are inserted whole and revoking sets only the flag.
    nx-27017: a top-level date `$set` on an existing document is stored as a string; MongoDB
    would take updates of `issuedAt`/`expiration` too.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, max_time_ms: int = 10_000) -> None:
        self._tokens: AsyncCollection[dict[str, Any]] = db[API_TOKENS]
        self._max_time_ms = max_time_ms

    async def insert(self, token: TokenMetadata, *, secret_hash: str) -> None:
        doc = {
            "_id": token.id,
            "name": token.name,
            "roles": list(token.roles),
            "issuedAt": token.issued_at,
            "expiration": token.expiration,
            "revoked": token.revoked,
            "hash": secret_hash,
        }
        await guarded(
            lambda: self._tokens.insert_one(doc), timeout_ms=self._max_time_ms, write=True
        )

    async def find_by_hash(self, secret_hash: str) -> TokenMetadata | None:
        doc = await guarded(
            lambda: self._tokens.find_one({"hash": secret_hash}), timeout_ms=self._max_time_ms
        )
        return None if doc is None else _record(doc)

    async def get(self, token_id: str) -> TokenMetadata | None:
        doc = await guarded(
            lambda: self._tokens.find_one({"_id": token_id}), timeout_ms=self._max_time_ms
        )
        return None if doc is None else _record(doc)

    async def list(
        self, *, revoked: bool | None = None, name: str | None = None
    ) -> builtins.list[TokenMetadata]:
        """Tokens, oldest first; only revoked (or unrevoked) ones, or one name's, when asked."""
        flt: dict[str, Any] = {}
        if revoked is not None:
            flt["revoked"] = revoked
        if name is not None:
            flt["name"] = name

        async def run() -> builtins.list[TokenMetadata]:
            cursor = self._tokens.find(
                flt, sort=[("issuedAt", 1), ("_id", 1)], max_time_ms=self._max_time_ms
            )
            return [_record(doc) async for doc in cursor]

        return await guarded(run, timeout_ms=self._max_time_ms)

    async def revoke(self, token_id: str) -> bool:
        """Mark a token revoked; False when there is no such token. Revoking twice is fine."""
        result = await guarded(
            lambda: self._tokens.update_one({"_id": token_id}, {"$set": {"revoked": True}}),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        return result.matched_count == 1


def _utc(value: datetime) -> datetime:
    # The client is configured without tz_aware: dates come back naive, in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(doc: dict[str, Any]) -> TokenMetadata:
    expiration = doc.get("expiration")
    return TokenMetadata(
        id=doc["_id"],
        name=doc.get("name") or "",
        roles=tuple(doc.get("roles") or ()),
        issued_at=_utc(doc["issuedAt"]),
        expiration=None if expiration is None else _utc(expiration),
        revoked=bool(doc.get("revoked")),
    )
