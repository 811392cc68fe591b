"""Who is calling and whether they may: the guards declared in the route table, checked by the
request pipeline (app/pipeline.py) before any handler.

A route's guard is `None` (open), `ANY_PRINCIPAL` (any valid credentials), `METRICS_SCRAPE`
(open unless a metrics token is configured) or the permissions it needs. Routes outside the table
(Swagger UI, unknown paths) are open, except under `/v1/`: there an unknown path or method needs
credentials too, so an anonymous caller cannot learn which routes exist.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Mapping

from aiohttp import web

from app.auth.oidc import InvalidJwt, IssuerUnreachable, OidcVerifier
from app.auth.permissions import Access, Permission
from app.auth.principal import Principal
from app.errors import PermissionDenied, Unauthenticated, Unavailable
from app.keys import ACCESS, OIDC, PRINCIPAL, SETTINGS
from app.services.access import AccessService


class Gate(enum.Enum):
    """Guards that are not permissions."""

    ANY_PRINCIPAL = "any valid credentials"
    METRICS_SCRAPE = "the metrics token, when one is configured"


ANY_PRINCIPAL = Gate.ANY_PRINCIPAL
METRICS_SCRAPE = Gate.METRICS_SCRAPE
Guard = Permission | tuple[Permission, ...] | Gate | None
Guards = Mapping[web.AbstractRoute, Guard]

_BEARER = "bearer"
MISSING = "credentials not found"
MALFORMED = "malformed credentials: expected `Authorization: Bearer <token>`"
SEVERAL = "malformed credentials: more than one Authorization header"


def bearer_token(request: web.Request) -> str:
    """The token of `Authorization: Bearer <token>`.

    Raises:
        Unauthenticated: no Authorization header, several, another scheme, or an empty token.
    """
    headers = request.headers.getall("Authorization", [])
    if not headers:
        raise Unauthenticated(MISSING)
    if len(headers) > 1:
        # a proxy may read another one than we would: never guess who is calling
        raise Unauthenticated(SEVERAL)
    scheme, _, token = headers[0].strip().partition(" ")
    token = token.strip()
    # tokens are ASCII (RFC 6750); other bytes arrive as surrogates no hash or digest can take
    if scheme.lower() != _BEARER or not token or " " in token or not token.isascii():
        raise Unauthenticated(MALFORMED)
    return token


async def authenticate(
    token: str, access: AccessService, verifier: OidcVerifier | None
) -> Principal:
    """The principal a bearer token speaks for: an OIDC JWT when issuers are configured and it
    looks like one, otherwise an API token of this service.

    Raises:
        Unauthenticated: the token is unknown, expired, revoked or does not verify.
        Unavailable: a JWT whose issuer's keys cannot be fetched now (503: the caller's
            credentials may be fine, it should try again rather than sign in anew).
    """
    if verifier is not None and OidcVerifier.looks_like_jwt(token):
        try:
            identity = await verifier.verify(token)
        except IssuerUnreachable as exc:
            raise Unavailable(f"cannot check the token now: {exc}") from exc
        except InvalidJwt as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        return await access.principal_for_oidc(identity)
    return await access.authenticate_token(token)


def authorize(principal: Principal, needed: Permission | tuple[Permission, ...]) -> None:
    """Raises PermissionDenied, in upstream's words, for the first permission not held."""
    held = principal.effective
    for permission in needed if isinstance(needed, tuple) else (needed,):
        if held.get(permission.resource, Access.NO_ACCESS) < permission.access:
            raise PermissionDenied(f"not authorized: {permission}")


def _check_metrics_token(request: web.Request) -> None:
    expected = request.app[SETTINGS].metrics_token
    if expected and not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
        raise Unauthenticated("invalid token")


def unlisted_guard(path: str) -> Guard:
    """The guard of a path outside the route table: credentials under /v1/, else open."""
    return ANY_PRINCIPAL if path.startswith("/v1/") else None


def passes_cached(request: web.Request, guard: Permission | tuple[Permission, ...] | Gate) -> bool:
    """Check a guard with a token authenticated within the cache time, awaiting nothing: True
    when it passes (`request[PRINCIPAL]` set), False when `check_guard` must decide.

    Raises:
        Unauthenticated: the cached token has expired or was revoked.
        PermissionDenied: the caller lacks a permission the guard names.
    """
    if guard is METRICS_SCRAPE:
        return False
    # exactly one `Bearer` header whose token was seen recently (so it was well-formed then)
    sent = request.headers.getall("Authorization", ())
    if len(sent) != 1 or sent[0][:7].lower() != "bearer ":
        return False
    principal = request.app[ACCESS].recently_authenticated(sent[0][7:])
    if principal is None:
        return False
    request[PRINCIPAL] = principal
    if not isinstance(guard, Gate):
        authorize(principal, guard)
    return True


async def check_guard(request: web.Request, guard: Guard) -> None:
    """Enforce a route's guard; `request[PRINCIPAL]` holds the caller afterwards.

    Raises:
        Unauthenticated: missing or invalid credentials.
        PermissionDenied: the caller lacks a permission the guard names.
    """
    if guard is None:
        return
    if guard is METRICS_SCRAPE:
        _check_metrics_token(request)
        return
    app = request.app
    principal = await authenticate(bearer_token(request), app[ACCESS], app.get(OIDC))
    request[PRINCIPAL] = principal
    if not isinstance(guard, Gate):
        authorize(principal, guard)
