"""OIDC issuers from IMAGE_SERVICE_OIDC_ISSUERS, and how claims become roles."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.auth.oidc_config import OidcIssuer, RoleRule, issuers_from_env, roles_for, url_problem
from app.config import SettingsError, load_settings

CI = "Continuous Integration"


def env_value(*issuers: dict[str, Any]) -> str:
    return orjson.dumps(list(issuers)).decode()


def test_unset_or_blank_means_no_issuer() -> None:
    assert issuers_from_env("") == ()
    assert issuers_from_env("  \n") == ()
    assert issuers_from_env("[]") == ()


def test_issuers_are_read_with_their_rules() -> None:
    raw = env_value(
        {
            "issuer": "https://kubernetes.default.svc",
            "audience": "image-service",
            "rules": [{"claim": "sub", "value": "system:serviceaccount:ci:scanner", "role": CI}],
        },
        {
            "issuer": "https://token.actions.example.com",
            "audience": "https://images.example.com",
            "jwksUri": "https://token.actions.example.com/.well-known/jwks",
            "leewaySeconds": 5,
        },
    )
    k8s, ci = issuers_from_env(raw)
    assert k8s == OidcIssuer(
        issuer="https://kubernetes.default.svc",
        audience="image-service",
        rules=(RoleRule("sub", "system:serviceaccount:ci:scanner", CI),),
    )
    assert (k8s.jwks_uri, k8s.leeway_s) == ("", 30.0)
    assert k8s.discovery_uri == "https://kubernetes.default.svc/.well-known/openid-configuration"
    assert ci.jwks_uri == "https://token.actions.example.com/.well-known/jwks"
    assert (ci.leeway_s, ci.rules) == (5.0, ())


def test_every_mistake_is_named_at_once() -> None:
    raw = env_value(
        {"issuer": "http://idp.example.com", "audience": "", "color": "blue"},
        {
            "issuer": "https://idp.example.com",
            "audience": "a",
            "jwksUri": "ftp://idp.example.com/keys",
            "leewaySeconds": 3600,
            "rules": [{"claim": "sub", "value": "x"}, "Admin"],
        },
        {"issuer": "https://idp.example.com", "audience": "b", "leewaySeconds": True},
    )
    with pytest.raises(ValueError, match="IMAGE_SERVICE_OIDC_ISSUERS") as error:
        issuers_from_env(raw)
    message = str(error.value)
    for fragment in (
        "IMAGE_SERVICE_OIDC_ISSUERS[0].issuer must be an https URL",
        "IMAGE_SERVICE_OIDC_ISSUERS[0].audience must be a non-empty string",
        "IMAGE_SERVICE_OIDC_ISSUERS[0] has unknown keys color",
        "IMAGE_SERVICE_OIDC_ISSUERS[1].jwksUri must be an https URL",
        "IMAGE_SERVICE_OIDC_ISSUERS[1].leewaySeconds must be between 0 and 600",
        "IMAGE_SERVICE_OIDC_ISSUERS[1].rules[0].role must be a non-empty string",
        "IMAGE_SERVICE_OIDC_ISSUERS[1].rules[1] must be an object",
        "IMAGE_SERVICE_OIDC_ISSUERS[2].leewaySeconds must be a number",
        "names issuer 'https://idp.example.com' twice",
    ):
        assert fragment in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "IMAGE_SERVICE_OIDC_ISSUERS is not JSON"),
        ('{"issuer": "https://a"}', "must be a JSON array of issuers"),
        ('["https://a"]', "IMAGE_SERVICE_OIDC_ISSUERS[0] must be an object"),
        ('[{"issuer": "https://a", "audience": "x", "rules": {}}]', "rules must be an array"),
    ],
)
def test_shapes_refused(raw: str, expected: str) -> None:
    with pytest.raises(ValueError, match="IMAGE_SERVICE_OIDC_ISSUERS") as error:
        issuers_from_env(raw)
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://idp.example.com", True),
        ("https://idp.example.com/tenant/v2.0", True),
        ("http://127.0.0.1:8443", True),
        ("http://[::1]:8443/x", True),
        ("http://localhost:8443", True),
        ("http://idp.example.com", False),
        ("http://10.0.0.1", False),
        ("file:///etc/keys.json", False),
        ("https://", False),
        ("idp.example.com", False),
    ],
)
def test_urls_are_https_or_loopback(url: str, allowed: bool) -> None:
    assert (url_problem(url) is None) is allowed


RULES = (
    RoleRule("sub", "system:serviceaccount:ci:scanner", CI),
    RoleRule("groups", "image-admins", "Admin"),
    RoleRule("groups", "ci", CI),
    RoleRule("email", "*", "Analyst"),
)


@pytest.mark.parametrize(
    ("claims", "roles"),
    [
        ({"sub": "system:serviceaccount:ci:scanner"}, (CI,)),
        ({"sub": "system:serviceaccount:ci:other"}, ()),
        ({"sub": "system:serviceaccount:ci:scanner", "groups": ["ci"]}, (CI,)),
        ({"sub": "x", "groups": ["dev", "image-admins", "ci"]}, ("Admin", CI)),
        ({"sub": "x", "groups": "image-admins"}, ("Admin",)),
        ({"sub": "x", "groups": ["IMAGE-ADMINS", 7, None]}, ()),
        ({"sub": "x", "email": "bot@example.com"}, ("Analyst",)),
        ({"sub": "x", "email": None}, ()),
        ({"sub": "x", "email": []}, ()),
        ({"sub": "x", "email": 42}, ()),
        ({}, ()),
    ],
)
def test_claims_map_to_roles_in_rule_order(claims: dict[str, Any], roles: tuple[str, ...]) -> None:
    assert roles_for(RULES, claims) == roles


def test_settings_carry_the_issuers() -> None:
    raw = env_value({"issuer": "https://idp.example.com", "audience": "image-service"})
    settings = load_settings({"IMAGE_SERVICE_OIDC_ISSUERS": raw})
    assert settings.oidc_issuers == (OidcIssuer("https://idp.example.com", "image-service"),)
    assert load_settings({}).oidc_issuers == ()


def test_a_bad_issuer_list_is_reported_with_the_other_settings() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"IMAGE_SERVICE_OIDC_ISSUERS": "[1]", "IMAGE_SERVICE_PORT": "http"})
    assert "IMAGE_SERVICE_OIDC_ISSUERS[0] must be an object" in str(error.value)
    assert "IMAGE_SERVICE_PORT must be an integer" in str(error.value)
