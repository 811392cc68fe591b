"""Who is calling: an API token of this service, or a JWT of a configured OIDC issuer."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.auth.permissions import RESOURCES, Access, Permission, PermissionSet, access_to


class PrincipalKind(enum.Enum):
    API_TOKEN = "apiToken"  # noqa: S105 - a kind, not a secret
    OIDC = "oidc"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and everything its roles allow.

    ``id`` is the token id (API tokens) or ``<issuer>#<subject>`` (OIDC); ``name`` is the token's
    name or the subject.
    """

    kind: PrincipalKind
    id: str
    name: str
    roles: tuple[str, ...]
    permissions: PermissionSet
    expires_at: datetime | None = None
    issuer: str = ""
    # the access held on each resource, upstream's aliases counted: checked on every request
    effective: Mapping[str, Access] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        held = {
            resource: access_to(self.permissions, resource)
            for resource in (*RESOURCES, *self.permissions)
        }
        object.__setattr__(self, "effective", held)

    def allows(self, needed: Permission) -> bool:
        return self.effective.get(needed.resource, Access.NO_ACCESS) >= needed.access
