"""Permissions as upstream has them: (resource, access) pairs, and the built-in roles."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


class Access(enum.IntEnum):
    """How much of a resource a role may use; each level includes the ones below."""

    NO_ACCESS = 0
    READ_ACCESS = 1
    READ_WRITE_ACCESS = 2


# The upstream resources this service checks or reports.
ACCESS = "Access"
ADMINISTRATION = "Administration"
DETECTION = "Detection"
IMAGE = "Image"
IMAGE_ADMINISTRATION = "ImageAdministration"
INTEGRATION = "Integration"
WATCHED_IMAGE = "WatchedImage"
RESOURCES: tuple[str, ...] = (
    ACCESS,
    ADMINISTRATION,
    DETECTION,
    IMAGE,
    IMAGE_ADMINISTRATION,
    INTEGRATION,
    WATCHED_IMAGE,
)

# Upstream replaced the global WatchedImage resource by ImageAdministration and grants access
# when a role has either.
_ALSO_GRANTED_BY: Mapping[str, str] = {WATCHED_IMAGE: IMAGE_ADMINISTRATION}

PermissionSet = Mapping[str, Access]


@dataclass(frozen=True, slots=True)
class Permission:
    """What an endpoint needs: ``access`` (or more) on ``resource``."""

    resource: str
    access: Access

    def __str__(self) -> str:
        # upstream's words: not authorized: "READ_WRITE_ACCESS" for "Image"
        return f'"{self.access.name}" for "{self.resource}"'


def read(resource: str) -> Permission:
    return Permission(resource, Access.READ_ACCESS)


def write(resource: str) -> Permission:
    return Permission(resource, Access.READ_WRITE_ACCESS)


def _frozen(permissions: Mapping[str, Access]) -> PermissionSet:
    return MappingProxyType(dict(permissions))


ADMIN = "Admin"
ANALYST = "Analyst"
CONTINUOUS_INTEGRATION = "Continuous Integration"
NONE = "None"

# Immutable, with upstream's names and meanings.
BUILT_IN_ROLES: Mapping[str, PermissionSet] = MappingProxyType(
    {
        ADMIN: _frozen({r: Access.READ_WRITE_ACCESS for r in RESOURCES}),
        ANALYST: _frozen({r: Access.READ_ACCESS for r in RESOURCES}),
        CONTINUOUS_INTEGRATION: _frozen(
            {IMAGE: Access.READ_WRITE_ACCESS, DETECTION: Access.READ_ACCESS}
        ),
        NONE: _frozen({}),
    }
)


def union(permission_sets: Iterable[PermissionSet]) -> PermissionSet:
    """The most access any of the sets gives, per resource (a principal with several roles)."""
    merged: dict[str, Access] = {}
    for permissions in permission_sets:
        for resource, access in permissions.items():
            if access > merged.get(resource, Access.NO_ACCESS):
                merged[resource] = access
    return _frozen(merged)


def access_to(permissions: PermissionSet, resource: str) -> Access:
    """The access ``permissions`` give on ``resource``, counting upstream's aliases."""
    access = permissions.get(resource, Access.NO_ACCESS)
    alias = _ALSO_GRANTED_BY.get(resource)
    if alias is not None:
        access = max(access, permissions.get(alias, Access.NO_ACCESS))
    return access


def allows(permissions: PermissionSet, needed: Permission) -> bool:
    return access_to(permissions, needed.resource) >= needed.access


def covers(held: PermissionSet, wanted: PermissionSet) -> bool:
    """Whether ``held`` includes all ``wanted`` asks for: nobody issues more than they hold."""
    return all(access_to(held, resource) >= access for resource, access in wanted.items())
