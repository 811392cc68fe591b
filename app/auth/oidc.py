"""Machine-to-machine callers: JWTs from configured OIDC issuers, verified against their JWKS.

A Kubernetes projected service-account token or a CI system's OIDC token is accepted when its
signature verifies with a key from its issuer's JWKS, `iss` is exactly a configured issuer,
`aud` names that issuer's audience, `exp` holds (and `nbf`/`iat`, within the issuer's leeway),
and it carries `sub`. Its roles come from the issuer's rules; PyJWT does the cryptography.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import jwt

from app.auth.oidc_config import (
    OidcIssuer,
    RoleRule,
    issuers_from_env,
    roles_for,
    short_repr,
)
from app.auth.oidc_jwks import KEY_FAMILY, IssuerKeys, JsonFetcher, KeysUnreachable, KeyUnavailable

__all__ = [
    "InvalidJwt",
    "OidcIdentity",
    "OidcIssuer",
    "OidcVerifier",
    "RoleRule",
    "issuers_from_env",
]

# Only asymmetric algorithms: never `none`, never HS* (a public key must not double as a secret).
ACCEPTED_ALGORITHMS = frozenset(KEY_FAMILY)
MAX_TOKEN_CHARS = 16 << 10
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]

_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is for another audience"),
    (jwt.InvalidIssuerError, "the token's issuer does not match"),
    (jwt.InvalidSignatureError, "the signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.InvalidKeyError, "the issuer's key is too weak or unusable"),
    (jwt.DecodeError, "the token is malformed"),
)


class InvalidJwt(Exception):
    """The JWT is not accepted. The message is fit for logs and never contains the token."""


class IssuerUnreachable(InvalidJwt):
    """The JWT cannot be checked now: its issuer's signing keys could not be fetched. Not the
    caller's fault, so not an answer about its credentials."""


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    """Who a verified JWT speaks for.

    `roles` holds every role the issuer's rules granted, de-duplicated, in rule order. It is
    empty when no rule matched: the token is genuine but grants nothing, and the caller decides
    what that means (it is authenticated, so an endpoint needing a permission answers 403).
    """

    issuer: str
    subject: str
    roles: tuple[str, ...]
    expires_at: datetime  # aware, UTC, from `exp`


class OidcVerifier:
    """Verifies JWTs from the configured issuers; one instance per application, closed at exit."""

    def __init__(
        self,
        issuers: Sequence[OidcIssuer],
        *,
        session_factory: Callable[[], aiohttp.ClientSession] | None = None,
        jwks_ttl_s: float = 3600.0,
        min_refresh_interval_s: float = 30.0,
    ) -> None:
        self._fetcher = JsonFetcher(session_factory)
        self._issuers = {i.issuer: i for i in issuers}
        self._keys = {
            i.issuer: IssuerKeys(
                i,
                self._fetcher,
                ttl_s=jwks_ttl_s,
                min_refresh_interval_s=min_refresh_interval_s,
            )
            for i in issuers
        }

    @staticmethod
    def looks_like_jwt(token: str) -> bool:
        """Three base64url segments separated by dots: cheap, verifies nothing."""
        return len(token) <= MAX_TOKEN_CHARS and _JWT_SHAPE.fullmatch(token) is not None

    async def verify(self, token: str) -> OidcIdentity:
        """The identity a valid JWT from a configured issuer speaks for.

        Raises:
            InvalidJwt: anything about the token, its issuer or its key is not right.
        """
        if not self.looks_like_jwt(token):
            raise InvalidJwt("not a JWT")
        header, unverified = _unverified(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ACCEPTED_ALGORITHMS:
            raise InvalidJwt(f"JWT algorithm {short_repr(alg)} is not accepted")
        iss = unverified.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise InvalidJwt(f"JWT issuer {short_repr(iss)} is not configured")
        try:
            key = await self._keys[issuer.issuer].key(header.get("kid"), alg)  # PyJWT: str or None
        except KeysUnreachable:
            # the reason (an internal URL or address) is logged where the fetch failed
            raise IssuerUnreachable(
                f"JWT from {issuer.issuer}: the issuer's signing keys could not be fetched"
            ) from None
        except KeyUnavailable as exc:
            raise InvalidJwt(f"JWT from {issuer.issuer}: {exc}") from None
        claims = _verified_claims(token, key, alg, issuer)
        if not isinstance(claims["sub"], str):
            raise InvalidJwt(f"JWT from {issuer.issuer}: the 'sub' claim is not a string")
        try:
            expires_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
        except (OverflowError, ValueError, OSError):
            raise InvalidJwt(f"JWT from {issuer.issuer}: the 'exp' claim is out of range") from None
        return OidcIdentity(
            issuer=issuer.issuer,
            subject=claims["sub"],
            roles=roles_for(issuer.rules, claims),
            expires_at=expires_at,
        )

    async def close(self) -> None:
        for keys in self._keys.values():
            await keys.close()
        await self._fetcher.close()


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, read without any check, only to choose the issuer and the key."""
    try:
        decoded = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidJwt("the token is malformed") from None
    return decoded["header"], decoded["payload"]


def _verified_claims(token: str, key: jwt.PyJWK, alg: str, issuer: OidcIssuer) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=issuer.audience,
            issuer=issuer.issuer,
            leeway=issuer.leeway_s,
            options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidJwt(f"JWT from {issuer.issuer}: the {exc.claim!r} claim is missing") from None
    except jwt.PyJWTError as exc:
        reason = next((r for kind, r in _REASONS if isinstance(exc, kind)), None)
        raise InvalidJwt(
            f"JWT from {issuer.issuer}: {reason or f'invalid ({type(exc).__name__})'}"
        ) from None
    return claims
