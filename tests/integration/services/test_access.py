"""AccessService on each store: issuing, authenticating, revoking (seen by another replica within
the cache time), custom roles, and nobody issuing more than they hold."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.auth.permissions import (
    ADMIN,
    ANALYST,
    BUILT_IN_ROLES,
    CONTINUOUS_INTEGRATION,
    NONE,
    Access,
)
from app.auth.principal import Principal, PrincipalKind
from app.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from app.services.access import TOKEN_PREFIX, AccessService
from storage.roles import RoleRepository
from storage.tokens import TokenRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


class Clocks:
    """A wall clock and a monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = T0
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    roles: tuple[str, ...]
    expires_at: datetime | None = None


def replica(db: Any, clocks: Clocks | None = None, **kwargs: Any) -> AccessService:
    if clocks is not None:
        kwargs.update(clock=lambda: clocks.now, monotonic=lambda: clocks.mono)
    return AccessService(tokens=TokenRepository(db), roles=RoleRepository(db), **kwargs)


def operator_issue(access: AccessService, *roles: str, **kwargs: Any) -> Any:
    kwargs.setdefault("expiration", T0 + YEAR)
    return access.generate_token(name="t", roles=list(roles), issuer=None, **kwargs)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


async def test_a_token_authenticates_with_its_roles_permissions(db: Any, clocks: Clocks) -> None:
    access = replica(db, clocks)
    secret, token = await access.generate_token(
        name=" ci ", roles=[CONTINUOUS_INTEGRATION], expiration=T0 + YEAR, issuer=None
    )
    assert secret.startswith(TOKEN_PREFIX)
    assert len(secret) >= len(TOKEN_PREFIX) + 43  # 256 random bits, base64
    assert (token.name, token.roles, token.issued_at, token.revoked) == (
        "ci",
        (CONTINUOUS_INTEGRATION,),
        T0,
        False,
    )
    principal = await access.authenticate_token(secret)
    assert principal.kind is PrincipalKind.API_TOKEN
    assert (principal.id, principal.name, principal.roles) == (token.id, "ci", token.roles)
    assert dict(principal.permissions) == dict(BUILT_IN_ROLES[CONTINUOUS_INTEGRATION])
    assert principal.expires_at == T0 + YEAR
    assert await access.get_token(token.id) == token
    # only the hash is stored
    doc = await db["api_tokens"].find_one({"_id": token.id})
    assert doc["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(doc)


async def test_secrets_are_random(db: Any) -> None:
    access = replica(db)
    secrets = {(await operator_issue(access, NONE, expiration=None))[0] for _ in range(5)}
    assert len(secrets) == 5


@pytest.mark.parametrize(
    "secret",
    ["", "Bearer", f"{TOKEN_PREFIX}unknown", "eyJhbGciOi.x.y", TOKEN_PREFIX + "x" * 300],
)
async def test_unknown_or_malformed_secrets_are_refused(db: Any, secret: str) -> None:
    with pytest.raises(Unauthenticated, match="credentials not found"):
        await replica(db).authenticate_token(secret)


async def test_an_expired_token_is_refused(db: Any, clocks: Clocks) -> None:
    access = replica(db, clocks)
    secret, _ = await operator_issue(access, ADMIN, expiration=T0 + timedelta(hours=1))
    await access.authenticate_token(secret)
    clocks.now += timedelta(hours=1)  # cached or not, expiry is checked on every use
    with pytest.raises(Unauthenticated, match="expired"):
        await access.authenticate_token(secret)
    with pytest.raises(Unauthenticated, match="expired"):
        await replica(db, clocks).authenticate_token(secret)


async def test_revoked_on_one_replica_refused_by_another_once_its_cache_expires(
    db: Any, clocks: Clocks
) -> None:
    one, other = replica(db, clocks), replica(db, clocks)
    secret, token = await operator_issue(one, ADMIN)
    assert (await other.authenticate_token(secret)).id == token.id  # now cached by `other`
    revoked = await one.revoke_token(token.id)
    assert revoked.revoked
    with pytest.raises(Unauthenticated, match="revoked"):
        await one.authenticate_token(secret)  # the revoking replica at once
    clocks.advance(3.9)
    assert (await other.authenticate_token(secret)).id == token.id  # still cached
    clocks.advance(0.2)
    with pytest.raises(Unauthenticated, match="revoked"):
        await other.authenticate_token(secret)


async def test_revocation_is_seen_by_another_replica_within_5_s_of_real_time(db: Any) -> None:
    one, other = replica(db), replica(db)
    secret, token = await operator_issue(one, ADMIN, expiration=datetime.now(UTC) + YEAR)
    await other.authenticate_token(secret)
    await one.revoke_token(token.name)
    revoked_at = time.monotonic()
    while True:
        try:
            await other.authenticate_token(secret)
        except Unauthenticated:
            break
        assert time.monotonic() - revoked_at < 5.0
        await asyncio.sleep(0.2)


async def test_revoke_by_name_or_id(db: Any, clocks: Clocks) -> None:
    access = replica(db, clocks)
    _, first = await access.generate_token(name="ci", roles=[ADMIN], expiration=None, issuer=None)
    clocks.advance(1)  # listed oldest first
    _, second = await access.generate_token(name="ci", roles=[ADMIN], expiration=None, issuer=None)
    with pytest.raises(InvalidArgument, match="2 API tokens are named"):
        await access.revoke_token("ci")
    await access.revoke_token(first.id)
    assert (await access.revoke_token("ci")).id == second.id  # the one live token of that name
    assert (await access.revoke_token("ci")).revoked  # all revoked: twice is fine
    assert (await access.revoke_token(second.id)).revoked
    with pytest.raises(NotFound):
        await access.revoke_token("nobody")
    with pytest.raises(NotFound):
        await access.get_token("nobody")
    assert [t.id for t in await access.list_tokens(revoked=True)] == [first.id, second.id]
    assert await access.list_tokens(revoked=False) == []


@pytest.mark.parametrize(
    ("name", "roles", "expiration", "message"),
    [
        ("  ", [ADMIN], None, "name must be specified"),
        ("x" * 300, [ADMIN], None, "longer than"),
        ("ci", [], None, "at least one role"),
        ("ci", ["Nobody"], None, 'unknown role "Nobody"'),
        ("ci", [ADMIN], T0 - timedelta(seconds=1), "in the future"),
        ("ci", [ADMIN], T0, "in the future"),
    ],
)
async def test_generate_refuses_bad_requests(
    db: Any, clocks: Clocks, name: str, roles: list[str], expiration: Any, message: str
) -> None:
    access = replica(db, clocks)
    with pytest.raises(InvalidArgument, match=message):
        await access.generate_token(name=name, roles=roles, expiration=expiration, issuer=None)
    assert await access.list_tokens() == []


async def test_nobody_issues_more_than_they_hold(db: Any, clocks: Clocks) -> None:
    access = replica(db, clocks)
    secret, _ = await operator_issue(access, ANALYST)
    analyst = await access.authenticate_token(secret)
    with pytest.raises(PermissionDenied, match='^not authorized: "READ_WRITE_ACCESS" for "'):
        await access.generate_token(
            name="x", roles=[CONTINUOUS_INTEGRATION], expiration=None, issuer=analyst
        )
    _, ok = await access.generate_token(
        name="x", roles=[ANALYST, NONE], expiration=None, issuer=analyst
    )
    assert ok.roles == (ANALYST, NONE)
    assert await access.allowed_roles(analyst) == [ANALYST, NONE]
    admin = await access.authenticate_token((await operator_issue(access, ADMIN))[0])
    await access.create_role("viewer", {"Image": Access.READ_ACCESS})
    assert await access.allowed_roles(admin) == [*BUILT_IN_ROLES, "viewer"]
    assert await access.allowed_roles(analyst) == [ANALYST, NONE, "viewer"]


async def test_custom_roles(db: Any, clocks: Clocks) -> None:
    access = replica(db, clocks)
    role = await access.create_role(
        "scanner",
        {"Image": Access.READ_WRITE_ACCESS, "WatchedImage": Access.READ_ACCESS},
        description="scans and reads the watch list",
    )
    assert not role.built_in
    assert await access.get_role("scanner") == role
    roles = await access.list_roles()
    assert [r.name for r in roles] == [ADMIN, ANALYST, CONTINUOUS_INTEGRATION, NONE, "scanner"]
    assert all(r.built_in for r in roles[:4])
    secret, _ = await operator_issue(access, "scanner")
    principal = await access.authenticate_token(secret)
    assert dict(principal.permissions) == {
        "Image": Access.READ_WRITE_ACCESS,
        "WatchedImage": Access.READ_ACCESS,
    }
    # a new role is known to another replica that looked it up before, once its cache expires
    other = replica(db, clocks)
    assert dict((await other.principal_for_oidc(Identity("i", "s", ("late",)))).permissions) == {}
    await access.create_role("late", {"Detection": Access.READ_ACCESS})
    clocks.advance(4.1)
    late = await other.principal_for_oidc(Identity("i", "s", ("late",)))
    assert dict(late.permissions) == {"Detection": Access.READ_ACCESS}


@pytest.mark.parametrize(
    ("name", "permissions", "message"),
    [
        (ADMIN, {"Image": Access.READ_ACCESS}, "built in"),
        (" ", {"Image": Access.READ_ACCESS}, "name must be specified"),
        ("r", {"Images": Access.READ_ACCESS}, "unknown resource Images"),
    ],
)
async def test_create_role_refuses(db: Any, name: str, permissions: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        await replica(db).create_role(name, permissions)


async def test_lookalike_roles_created_at_the_same_moment_cannot_both_exist(db: Any) -> None:
    """Each check of the names in use runs before either role is stored; the keys decide."""
    first, second = replica(db), replica(db)
    outcomes = await asyncio.gather(
        first.create_role("Auditor", {"Image": Access.READ_ACCESS}),
        second.create_role("ＡUDITOR", {"Image": Access.READ_WRITE_ACCESS}),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, InvalidArgument)]
    assert len(refused) == 1, outcomes
    assert "already exists as role" in str(refused[0])
    custom = [r.name for r in await first.list_roles() if not r.built_in]
    assert len(custom) == 1
    assert custom[0] in ("Auditor", "ＡUDITOR")


async def test_a_role_name_is_taken_once(db: Any) -> None:
    access = replica(db)
    await access.create_role("r", {"Image": Access.READ_ACCESS})
    with pytest.raises(InvalidArgument, match='role "r" already exists'):
        await access.create_role("r", {"Image": Access.READ_WRITE_ACCESS})
    assert dict((await access.get_role("r")).permissions) == {"Image": Access.READ_ACCESS}
    with pytest.raises(NotFound):
        await access.get_role("missing")


async def test_oidc_roles_map_to_permissions_unknown_ones_ignored_and_logged_once(
    db: Any, caplog: Any
) -> None:
    access = replica(db)
    await access.create_role("watcher", {"WatchedImage": Access.READ_WRITE_ACCESS})
    expires = T0 + timedelta(minutes=10)
    identity = Identity("https://issuer", "system:sa:ci", (ANALYST, "watcher", "ghost"), expires)
    principal = await access.principal_for_oidc(identity)
    await access.principal_for_oidc(identity)
    assert principal == Principal(
        kind=PrincipalKind.OIDC,
        id="https://issuer#system:sa:ci",
        name="system:sa:ci",
        roles=(ANALYST, "watcher", "ghost"),
        permissions=principal.permissions,
        expires_at=expires,
        issuer="https://issuer",
    )
    expected = {**BUILT_IN_ROLES[ANALYST], "WatchedImage": Access.READ_WRITE_ACCESS}
    assert dict(principal.permissions) == expected
    assert len([r for r in caplog.records if "'ghost'" in r.getMessage()]) == 1
