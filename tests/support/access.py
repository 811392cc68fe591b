"""Credentials for tests: tokens issued through the service on the test's database."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from app.auth.permissions import ADMIN
from app.composition import build_access
from app.config import Settings
from app.services.access import AccessService
from storage.roles import RoleRepository
from storage.tokens import TokenRepository


async def issue_token(
    db: Any,
    settings: Settings,
    roles: Sequence[str] = (ADMIN,),
    *,
    name: str = "test",
    expiration: datetime | None = None,
) -> str:
    """A token's secret, issued as an operator on the command line does (no issuer check)."""
    access = build_access(db, settings)
    secret, _ = await access.generate_token(
        name=name, roles=roles, expiration=expiration, issuer=None
    )
    return secret


async def issue_expired_token(db: Any, roles: Sequence[str] = (ADMIN,)) -> str:
    """A token that expired a minute ago: issued by a service whose clock is a day behind."""
    now = datetime.now(UTC)
    past = AccessService(
        tokens=TokenRepository(db), roles=RoleRepository(db), clock=lambda: now - timedelta(days=1)
    )
    secret, _ = await past.generate_token(
        name="expired", roles=roles, expiration=now - timedelta(minutes=1), issuer=None
    )
    return secret


async def revoke(db: Any, settings: Settings, id_or_name: str) -> None:
    await build_access(db, settings).revoke_token(id_or_name)


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped token with these claims and a signature nobody made."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'nobody'})}.{part(claims)}.c2lnbmF0dXJl"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
