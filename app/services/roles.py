"""Roles as the service hands them out: the built-in ones and the custom ones stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.auth.permissions import (
    ADMIN,
    ANALYST,
    BUILT_IN_ROLES,
    CONTINUOUS_INTEGRATION,
    NONE,
    Access,
    PermissionSet,
    union,
)
from storage.roles import RoleRecord

_BUILT_IN_DESCRIPTIONS: Mapping[str, str] = {
    ADMIN: "read and write access to every resource",
    ANALYST: "read access to every resource",
    CONTINUOUS_INTEGRATION: "scan images (Image read and write, Detection read)",
    NONE: "no access",
}


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    description: str
    permissions: PermissionSet
    built_in: bool


def built_in_role(name: str) -> Role:
    return Role(
        name=name,
        description=_BUILT_IN_DESCRIPTIONS.get(name, ""),
        permissions=BUILT_IN_ROLES[name],
        built_in=True,
    )


def custom_role(record: RoleRecord) -> Role:
    permissions = {
        resource: Access[access]
        for resource, access in record.permissions.items()
        if access in Access.__members__
    }
    return Role(
        name=record.name,
        description=record.description,
        permissions=union([permissions]),
        built_in=False,
    )
