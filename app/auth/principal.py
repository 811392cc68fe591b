"""Who is calling: an API token of this service, or a JWT of a configured OIDC issuer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from app.auth.permissions import Permission, PermissionSet, allows


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

    def allows(self, needed: Permission) -> bool:
        return allows(self.permissions, needed)
