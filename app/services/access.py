"""API tokens and roles: who a credential is, what its roles allow, who may issue what."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from app.auth.permissions import (
    BUILT_IN_ROLES,
    RESOURCES,
    Access,
    Permission,
    PermissionSet,
    access_to,
    covers,
    union,
)
from app.auth.principal import Principal, PrincipalKind
from app.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from app.services.expiring import ExpiringMap
from app.services.roles import Role, built_in_role, custom_role
from storage.roles import RoleRecord, RoleRepository
from storage.tokens import TokenMetadata, TokenRepository

__all__ = [
    "DEFAULT_LIFETIME",
    "TOKEN_PREFIX",
    "AccessService",
    "OidcClaims",
    "Role",
    "TokenMetadata",
    "hash_secret",
]

logger = logging.getLogger(__name__)

# Recognisable in logs and by secret scanners; the rest is 256 random bits.
TOKEN_PREFIX = "isvc_"  # noqa: S105 - a prefix, not a secret
_SECRET_BYTES = 32
_MAX_SECRET_LENGTH = 256
_MAX_NAME_LENGTH = 256
DEFAULT_LIFETIME = timedelta(days=365)  # upstream's default expiry


class OidcClaims(Protocol):
    """What a verified JWT says about its bearer (app.auth.oidc.OidcIdentity)."""

    @property
    def issuer(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def roles(self) -> Iterable[str]: ...
    @property
    def expires_at(self) -> datetime | None: ...


def hash_secret(secret: str) -> str:
    """What is stored of a token's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _to_ms(moment: datetime) -> datetime:
    # BSON dates keep milliseconds: what is returned at issue equals what is read back.
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class _Authenticated:
    token: TokenMetadata
    principal: Principal
    # in the clock's own time zone: comparing datetimes of one tzinfo skips utcoffset() calls
    expires_at: datetime | None


class AccessService:
    """API tokens (issued, listed, revoked, authenticated) and roles (built-in and custom).

    Authentication results are kept at most `cache_ttl_s` seconds, so a token revoked or a role
    created on one replica is seen by every other within that time.
    """

    def __init__(
        self,
        *,
        tokens: TokenRepository,
        roles: RoleRepository,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache_ttl_s: float = 4.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tokens = tokens
        self._roles = roles
        self._clock = clock
        # Keyed by the secret itself, in memory only: a hit costs one dict lookup, no hashing.
        self._authenticated: ExpiringMap[str, _Authenticated] = ExpiringMap(cache_ttl_s, monotonic)
        # a 1-tuple, so that a role found missing is remembered too
        self._custom_roles: ExpiringMap[str, tuple[RoleRecord | None]] = ExpiringMap(
            cache_ttl_s, monotonic
        )
        self._unknown_roles_logged: set[str] = set()

    def default_expiration(self) -> datetime:
        """When a token issued now expires if nobody says otherwise (upstream: one year)."""
        return self.expiration_after(DEFAULT_LIFETIME)

    def expiration_after(self, lifetime: timedelta) -> datetime:
        """When a token issued now with that lifetime expires."""
        return self._clock() + lifetime

    def recently_authenticated(self, secret: str) -> Principal | None:
        """The principal of an API token authenticated within the cache time, without awaiting
        anything: None when the secret is not one of ours or must be looked up.

        Raises:
            Unauthenticated: the token is known to be expired or revoked.
        """
        found = self._authenticated.get(secret)
        return None if found is None else self._still_valid(found)

    async def authenticate_token(self, secret: str) -> Principal:
        """The principal of an API token.

        Raises:
            Unauthenticated: the token is malformed, unknown, expired or revoked.
        """
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > _MAX_SECRET_LENGTH:
            raise Unauthenticated("credentials not found: not an API token of this service")
        found = self._authenticated.get(secret)
        if found is None:
            token = await self._tokens.find_by_hash(hash_secret(secret))
            if token is None:
                raise Unauthenticated("credentials not found: unknown API token")
            permissions = await self._permissions_of(token.roles)
            expires_at = token.expiration
            if expires_at is not None:
                expires_at = expires_at.astimezone(self._clock().tzinfo)
            found = _Authenticated(token, _token_principal(token, permissions), expires_at)
            self._authenticated.put(secret, found)
        return self._still_valid(found)

    def _still_valid(self, found: _Authenticated) -> Principal:
        if found.token.revoked:
            raise Unauthenticated("credentials not valid: the API token was revoked")
        if found.expires_at is not None and found.expires_at <= self._clock():
            raise Unauthenticated("credentials not valid: the API token expired")
        return found.principal

    async def principal_for_oidc(self, identity: OidcClaims) -> Principal:
        """The principal of a verified JWT; role names nobody defined are ignored."""
        roles = tuple(dict.fromkeys(identity.roles))
        return Principal(
            kind=PrincipalKind.OIDC,
            id=f"{identity.issuer}#{identity.subject}",
            name=identity.subject,
            roles=roles,
            permissions=await self._permissions_of(roles),
            expires_at=identity.expires_at,
            issuer=identity.issuer,
        )

    async def generate_token(
        self,
        *,
        name: str,
        roles: Sequence[str],
        expiration: datetime | None,
        issuer: Principal | None,
    ) -> tuple[str, TokenMetadata]:
        """Issue a token: its secret (shown once, never stored) and its metadata.

        `issuer` None is an operator on the command line, who may issue any role.

        Raises:
            InvalidArgument: no name, no role, an unknown role, an expiration in the past.
            PermissionDenied: the roles would give more than the issuer holds.
        """
        name = _checked_name("token", name)
        wanted = tuple(dict.fromkeys(role.strip() for role in roles))
        if not wanted:
            raise InvalidArgument("at least one role must be specified")
        now = _to_ms(self._clock())
        if expiration is not None:
            expiration = _to_ms(expiration)
            if expiration <= now:
                raise InvalidArgument("token expiration must be in the future")
        permissions = union([(await self._known_role(role)).permissions for role in wanted])
        if issuer is not None:
            _check_covered(issuer.permissions, permissions)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        token = TokenMetadata(
            id=uuid.uuid4().hex,
            name=name,
            roles=wanted,
            issued_at=now,
            expiration=expiration,
            revoked=False,
        )
        await self._tokens.insert(token, secret_hash=hash_secret(secret))
        logger.info("API token %s (%s) issued with roles %s", token.id, name, ", ".join(wanted))
        return secret, token

    async def list_tokens(self, *, revoked: bool | None = None) -> list[TokenMetadata]:
        return await self._tokens.list(revoked=revoked)

    async def get_token(self, token_id: str) -> TokenMetadata:
        """Raises: NotFound."""
        token = await self._tokens.get(token_id)
        if token is None:
            raise NotFound(f'API token "{token_id}" does not exist')
        return token

    async def revoke_token(self, id_or_name: str) -> TokenMetadata:
        """Revoke a token by id, or by name when one live token has it; twice is fine.

        Raises:
            NotFound: no token has that id or name.
            InvalidArgument: several live tokens have that name.
        """
        token = await self._tokens.get(id_or_name) or await self._only_named(id_or_name)
        if not await self._tokens.revoke(token.id):
            raise NotFound(f'API token "{id_or_name}" does not exist')
        self._authenticated.clear()  # this replica refuses it at once; the others within the TTL
        logger.info("API token %s (%s) revoked", token.id, token.name)
        return await self.get_token(token.id)

    async def _only_named(self, name: str) -> TokenMetadata:
        named = await self._tokens.list(name=name)
        if not named:
            raise NotFound(f'API token "{name}" does not exist')
        live = [token for token in named if not token.revoked]
        if len(live) > 1:
            ids = ", ".join(token.id for token in live)
            raise InvalidArgument(
                f'{len(live)} API tokens are named "{name}": revoke by id ({ids})'
            )
        return live[0] if live else named[-1]

    async def list_roles(self) -> list[Role]:
        """The built-in roles first, then the custom ones by name."""
        custom = [custom_role(record) for record in await self._roles.list()]
        return [built_in_role(name) for name in BUILT_IN_ROLES] + custom

    async def get_role(self, name: str) -> Role:
        """Raises: NotFound."""
        if name in BUILT_IN_ROLES:
            return built_in_role(name)
        record = await self._roles.get(name)
        if record is None:
            raise NotFound(f'role "{name}" does not exist')
        return custom_role(record)

    async def _known_role(self, name: str) -> Role:
        try:
            return await self.get_role(name)
        except NotFound as exc:
            raise InvalidArgument(f'unknown role "{name}"') from exc

    async def create_role(
        self, name: str, permissions: Mapping[str, Access], description: str = ""
    ) -> Role:
        """Store a custom role.

        Raises:
            InvalidArgument: no name, a built-in or existing name, an unknown resource.
        """
        name = _checked_name("role", name)
        if name in BUILT_IN_ROLES:
            raise InvalidArgument(f'role "{name}" is built in and cannot be changed')
        await self._refuse_lookalike(name)
        unknown = sorted(set(permissions) - set(RESOURCES))
        if unknown:
            raise InvalidArgument(
                f"unknown resource {', '.join(unknown)}; resources: {', '.join(RESOURCES)}"
            )
        granted = {r: Access(a) for r, a in permissions.items() if a > Access.NO_ACCESS}
        record = RoleRecord(
            name=name,
            description=description,
            permissions={resource: access.name for resource, access in granted.items()},
        )
        taken_by = await self._roles.insert(record, _lookalike_key(name))
        if taken_by == name:
            raise InvalidArgument(f'role "{name}" already exists')
        if taken_by is not None:  # created at the same moment as this one
            raise InvalidArgument(f'role "{name}" already exists as role "{taken_by}"')
        self._custom_roles.clear()
        return custom_role(record)

    async def _refuse_lookalike(self, name: str) -> None:
        """A role must not pass for another one, built in or custom, that differs only in case
        or in how its characters are written (`admin`, `ＡDMIN` for `Admin`)."""
        key = _lookalike_key(name)
        for other in [*BUILT_IN_ROLES, *(record.name for record in await self._roles.list())]:
            if other != name and _lookalike_key(other) == key:  # the same name: insert says so
                built_in = " built-in" if other in BUILT_IN_ROLES else ""
                raise InvalidArgument(f'role "{name}" already exists as{built_in} role "{other}"')

    async def allowed_roles(self, principal: Principal) -> list[str]:
        """The roles `principal` may put on a token it issues: those it holds all of."""
        return [
            role.name
            for role in await self.list_roles()
            if covers(principal.permissions, role.permissions)
        ]

    async def _permissions_of(self, names: Iterable[str]) -> PermissionSet:
        sets: list[PermissionSet] = []
        for name in names:
            built_in = BUILT_IN_ROLES.get(name)
            if built_in is not None:
                sets.append(built_in)
                continue
            record = await self._custom_role_record(name)
            if record is not None:
                sets.append(custom_role(record).permissions)
            elif name not in self._unknown_roles_logged:
                self._unknown_roles_logged.add(name)
                logger.warning("role %r is not defined: it grants nothing", name[:100])
        return union(sets)

    async def _custom_role_record(self, name: str) -> RoleRecord | None:
        cached = self._custom_roles.get(name)
        if cached is None:
            cached = (await self._roles.get(name),)
            self._custom_roles.put(name, cached)
        return cached[0]


def _checked_name(kind: str, name: str) -> str:
    """A token or role name without surrounding spaces; no control or invisible characters,
    which would forge log lines or make two names look the same."""
    name = name.strip()
    if not name:
        raise InvalidArgument(f"{kind} name must be specified")
    if len(name) > _MAX_NAME_LENGTH:
        raise InvalidArgument(f"{kind} name is longer than {_MAX_NAME_LENGTH} characters")
    if not name.isprintable():
        raise InvalidArgument(f"{kind} name contains control or invisible characters")
    return name


def _lookalike_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def _check_covered(held: PermissionSet, wanted: PermissionSet) -> None:
    for resource, access in wanted.items():
        if access_to(held, resource) < access:
            raise PermissionDenied(f"not authorized: {Permission(resource, access)}")


def _token_principal(token: TokenMetadata, permissions: PermissionSet) -> Principal:
    return Principal(
        kind=PrincipalKind.API_TOKEN,
        id=token.id,
        name=token.name,
        roles=token.roles,
        permissions=permissions,
        expires_at=token.expiration,
    )
