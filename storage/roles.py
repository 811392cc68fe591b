"""The `roles` collection: custom roles, each a name and a permission set."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from storage.mongo import ROLES, guarded


@dataclass(frozen=True, slots=True)
class RoleRecord:
    """A stored role: `permissions` maps a resource to an access name (`READ_ACCESS`, …)."""

    name: str
    description: str = ""
    permissions: Mapping[str, str] = field(default_factory=dict)


class RoleRepository:
    """Custom roles keyed by name; the built-in ones are not stored."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, max_time_ms: int = 10_000) -> None:
        self._roles: AsyncCollection[dict[str, Any]] = db[ROLES]
        self._max_time_ms = max_time_ms

    async def insert(self, role: RoleRecord) -> bool:
        """Store a new role; False when one of that name exists already."""
        doc = {
            "_id": role.name,
            "description": role.description,
            "permissions": dict(role.permissions),
        }

        async def insert() -> bool:
            try:
                await self._roles.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True

        return await guarded(insert, timeout_ms=self._max_time_ms, write=True)

    async def get(self, name: str) -> RoleRecord | None:
        doc = await guarded(
            lambda: self._roles.find_one({"_id": name}), timeout_ms=self._max_time_ms
        )
        return None if doc is None else _record(doc)

    async def list(self) -> builtins.list[RoleRecord]:
        """Every custom role, by name."""

        async def run() -> builtins.list[RoleRecord]:
            cursor = self._roles.find({}, sort=[("_id", 1)], max_time_ms=self._max_time_ms)
            return [_record(doc) async for doc in cursor]

        return await guarded(run, timeout_ms=self._max_time_ms)


def _record(doc: dict[str, Any]) -> RoleRecord:
    permissions = doc.get("permissions") or {}
    return RoleRecord(
        name=doc["_id"],
        description=doc.get("description") or "",
        permissions={str(k): str(v) for k, v in permissions.items()},
    )
