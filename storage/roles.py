"""The `roles` collection: custom roles, each a name and a permission set; `role_names` holds
each role's lookalike key (its name as a person would read it), so that two roles that could
pass for each other cannot both be created, even at the same moment on two replicas."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from storage.mongo import ROLE_NAMES, ROLES, guarded


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
        self._names: AsyncCollection[dict[str, Any]] = db[ROLE_NAMES]
        self._max_time_ms = max_time_ms

    async def insert(self, role: RoleRecord, lookalike_key: str) -> str | None:
        """Store a new role. None when stored; else the name of the role that has its name or
        its `lookalike_key` already (the new one is not kept then).

        The role is written first, then its key: of two roles with one key created at once,
        the one whose key write comes second removes itself. A role stored without its key (a
        writer that stopped in between, or an older version) is found by the caller's check
        of the listed names."""
        doc = {
            "_id": role.name,
            "description": role.description,
            "permissions": dict(role.permissions),
        }

        async def insert() -> str | None:
            try:
                await self._roles.insert_one(doc)
            except DuplicateKeyError:
                return role.name
            try:
                await self._names.insert_one({"_id": lookalike_key, "role": role.name})
            except DuplicateKeyError:
                holder = await self._names.find_one({"_id": lookalike_key})
                await self._roles.delete_one({"_id": role.name})
                return str((holder or {}).get("role") or role.name)
            return None

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
