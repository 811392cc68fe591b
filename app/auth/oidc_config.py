"""Which OIDC issuers are trusted and how their claims become roles (pure: no I/O).

Configured by `IMAGE_SERVICE_OIDC_ISSUERS`, a JSON array::

    [{"issuer": "https://kubernetes.default.svc", "audience": "image-service",
      "jwksUri": "https://…/openid/v1/jwks", "leewaySeconds": 30,
      "rules": [{"claim": "sub", "value": "system:serviceaccount:ci:scanner",
                 "role": "Continuous Integration"}]}]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

ENV_NAME = "IMAGE_SERVICE_OIDC_ISSUERS"
ANY_VALUE = "*"
MAX_LEEWAY_S = 600.0

_ISSUER_KEYS = frozenset({"issuer", "audience", "jwksUri", "rules", "leewaySeconds"})
_RULE_KEYS = frozenset({"claim", "value", "role"})


@dataclass(frozen=True, slots=True)
class RoleRule:
    """A claim value that grants a role.

    `claim` is any top-level claim (`sub`, `groups`, `email`, …); a list claim matches when any
    of its elements does. `value` matches exactly; `"*"` matches any present value.
    """

    claim: str
    value: str
    role: str

    def matches(self, claims: Mapping[str, Any]) -> bool:
        present = claims.get(self.claim)
        values = present if isinstance(present, list) else [present]
        strings = [v for v in values if isinstance(v, str)]
        if self.value == ANY_VALUE:
            return bool(strings)
        return self.value in strings


@dataclass(frozen=True, slots=True)
class OidcIssuer:
    """A trusted issuer: its exact `iss`, the audience its tokens must name, where its keys are."""

    issuer: str
    audience: str
    jwks_uri: str = ""  # empty: discovered from <issuer>/.well-known/openid-configuration
    rules: tuple[RoleRule, ...] = ()
    leeway_s: float = 30.0

    @property
    def discovery_uri(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def roles_for(rules: tuple[RoleRule, ...], claims: Mapping[str, Any]) -> tuple[str, ...]:
    """Every role a rule grants for these claims, de-duplicated, in rule order."""
    return tuple(dict.fromkeys(rule.role for rule in rules if rule.matches(claims)))


def short_repr(value: object) -> str:
    """A value taken from an unverified token, safe and short enough for a log line."""
    return repr(value)[:100]


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an issuer or key URL, or None: HTTPS, or plain HTTP on loopback only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "is not a URL"
    if not host:
        return "has no host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _is_loopback(host):
        return None
    return "must be an https URL (plain http only on loopback)"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def issuers_from_env(raw: str) -> tuple[OidcIssuer, ...]:
    """The issuers in the value of `IMAGE_SERVICE_OIDC_ISSUERS` (empty: none).

    Raises:
        ValueError: naming every entry and field that is wrong.
    """
    if not raw.strip():
        return ()
    try:
        entries = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{ENV_NAME} is not JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ValueError(f"{ENV_NAME} must be a JSON array of issuers")
    errors: list[str] = []
    issuers = [_issuer(entry, f"{ENV_NAME}[{i}]", errors) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for issuer in issuers:
        if issuer.issuer in seen:
            errors.append(f"{ENV_NAME} names issuer {issuer.issuer!r} twice")
        seen.add(issuer.issuer)
    if errors:
        raise ValueError("; ".join(errors))
    return tuple(issuers)


def _issuer(entry: object, where: str, errors: list[str]) -> OidcIssuer:
    if not isinstance(entry, dict):
        errors.append(f"{where} must be an object")
        return OidcIssuer("", "")
    _unknown_keys(entry, _ISSUER_KEYS, where, errors)
    issuer = _text(entry, "issuer", where, errors)
    if issuer and (problem := url_problem(issuer)):
        errors.append(f"{where}.issuer {problem}")
    jwks_uri = entry.get("jwksUri", "")
    if not isinstance(jwks_uri, str):
        errors.append(f"{where}.jwksUri must be a string")
        jwks_uri = ""
    elif jwks_uri and (problem := url_problem(jwks_uri)):
        errors.append(f"{where}.jwksUri {problem}")
    leeway = entry.get("leewaySeconds", 30.0)
    if isinstance(leeway, bool) or not isinstance(leeway, int | float):
        errors.append(f"{where}.leewaySeconds must be a number")
        leeway = 30.0
    elif not 0 <= leeway <= MAX_LEEWAY_S:
        errors.append(f"{where}.leewaySeconds must be between 0 and {MAX_LEEWAY_S:g}")
    raw_rules = entry.get("rules", [])
    if not isinstance(raw_rules, list):
        errors.append(f"{where}.rules must be an array")
        raw_rules = []
    rules = tuple(_rule(r, f"{where}.rules[{i}]", errors) for i, r in enumerate(raw_rules))
    return OidcIssuer(
        issuer=issuer,
        audience=_text(entry, "audience", where, errors),
        jwks_uri=jwks_uri,
        rules=rules,
        leeway_s=float(leeway),
    )


def _rule(entry: object, where: str, errors: list[str]) -> RoleRule:
    if not isinstance(entry, dict):
        errors.append(f"{where} must be an object")
        return RoleRule("", "", "")
    _unknown_keys(entry, _RULE_KEYS, where, errors)
    return RoleRule(
        claim=_text(entry, "claim", where, errors),
        value=_text(entry, "value", where, errors),
        role=_text(entry, "role", where, errors),
    )


def _text(entry: dict[str, Any], key: str, where: str, errors: list[str]) -> str:
    value = entry.get(key)
    if isinstance(value, str) and value.strip():
        return value
    errors.append(f"{where}.{key} must be a non-empty string")
    return ""


def _unknown_keys(
    entry: dict[str, Any], known: frozenset[str], where: str, errors: list[str]
) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        errors.append(
            f"{where} has unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
