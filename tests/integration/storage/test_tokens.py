"""API tokens and custom roles as stored: whole documents, dates kept as dates, hash lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import DuplicateKeyError

from storage.mongo import API_TOKENS, ensure_indexes
from storage.roles import RoleRecord, RoleRepository
from storage.tokens import TokenMetadata, TokenRepository

T0 = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


def token(token_id: str, name: str, *, issued: datetime = T0, **changes: Any) -> TokenMetadata:
    fields: dict[str, Any] = {
        "id": token_id,
        "name": name,
        "roles": ("Admin",),
        "issued_at": issued,
        "expiration": issued + timedelta(days=365),
        "revoked": False,
        **changes,
    }
    return TokenMetadata(**fields)


async def test_a_token_is_found_by_its_hash_and_id_with_its_dates(db: Any) -> None:
    tokens = TokenRepository(db)
    stored = token("a1", "ci", roles=("Analyst", "Continuous Integration"))
    await tokens.insert(stored, secret_hash="h1")
    assert await tokens.find_by_hash("h1") == stored
    assert await tokens.get("a1") == stored
    assert await tokens.find_by_hash("h2") is None
    assert await tokens.get("nope") is None
    never = token("a2", "forever", expiration=None)
    await tokens.insert(never, secret_hash="h2")
    assert await tokens.get("a2") == never


async def test_only_the_hash_is_stored(db: Any) -> None:
    await TokenRepository(db).insert(token("a1", "ci"), secret_hash="abc")
    doc = await db[API_TOKENS].find_one({"_id": "a1"})
    assert doc["hash"] == "abc"
    assert set(doc) == {"_id", "name", "roles", "issuedAt", "expiration", "revoked", "hash"}


async def test_revoke_sets_the_flag_and_keeps_the_dates(db: Any) -> None:
    tokens = TokenRepository(db)
    await tokens.insert(token("a1", "ci"), secret_hash="h1")
    assert await tokens.revoke("a1")
    assert await tokens.revoke("a1")  # twice is fine
    assert not await tokens.revoke("missing")
    revoked = await tokens.get("a1")
    assert revoked == token("a1", "ci", revoked=True)
    assert isinstance(revoked, TokenMetadata)
    assert isinstance(revoked.issued_at, datetime)
    assert isinstance(revoked.expiration, datetime)


async def test_list_filters_by_revocation_and_name_oldest_first(db: Any) -> None:
    tokens = TokenRepository(db)
    later = T0 + timedelta(minutes=1)
    await tokens.insert(token("b", "second", issued=later), secret_hash="hb")
    await tokens.insert(token("a", "first"), secret_hash="ha")
    await tokens.insert(token("c", "second", issued=later + timedelta(minutes=1)), secret_hash="hc")
    await tokens.revoke("c")
    assert [t.id for t in await tokens.list()] == ["a", "b", "c"]
    assert [t.id for t in await tokens.list(revoked=True)] == ["c"]
    assert [t.id for t in await tokens.list(revoked=False)] == ["a", "b"]
    assert [t.id for t in await tokens.list(name="second")] == ["b", "c"]
    assert [t.id for t in await tokens.list(name="second", revoked=False)] == ["b"]


async def test_the_hash_is_unique_once_indexes_exist(db: Any) -> None:
    await ensure_indexes(db)
    tokens = TokenRepository(db)
    await tokens.insert(token("a1", "ci"), secret_hash="same")
    with pytest.raises(DuplicateKeyError):
        await db[API_TOKENS].insert_one({"_id": "a2", "hash": "same"})


async def test_roles_are_stored_once_per_name_and_listed_by_name(db: Any) -> None:
    roles = RoleRepository(db)
    viewer = RoleRecord("viewer", "reads images", {"Image": "READ_ACCESS"})
    assert await roles.insert(viewer, "viewer") is None
    assert await roles.insert(RoleRecord("viewer", "other", {}), "viewer") == "viewer"
    assert await roles.insert(RoleRecord("auditor"), "auditor") is None
    # another name with a key already held: named, and not kept
    assert await roles.insert(RoleRecord("AUDITOR"), "auditor") == "auditor"
    assert await roles.get("AUDITOR") is None
    assert await roles.get("viewer") == viewer
    assert await roles.get("missing") is None
    assert [r.name for r in await roles.list()] == ["auditor", "viewer"]
