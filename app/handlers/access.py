"""Handlers of API tokens, roles and the caller's own status (upstream's APITokenService,
AuthService and RoleService)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.audit import note_audit
from app.auth.permissions import RESOURCES, Access, PermissionSet, access_to
from app.auth.principal import Principal, PrincipalKind
from app.errors import InvalidArgument
from app.handlers.documented import documented
from app.http import json_body, json_response, query_params
from app.keys import ACCESS, PRINCIPAL
from app.services.access import Role, TokenMetadata
from schemas import access as wire
from schemas import responses

TOKENS = "APITokenService"
# Schema instances are reusable and costly to build: one per process, not per request.
GENERATE_BODY = wire.GenerateTokenRequest()
TOKENS_PARAMS = wire.GetApiTokensParams()
ROLE_BODY = wire.Role()

_PATH = {"in": "path", "required": True, "schema": {"type": "string"}}
_TOKEN_ID = [{**_PATH, "name": "id", "description": "token id"}]
_ROLE_NAME = [{**_PATH, "name": "name", "description": "role name"}]
_API_TOKEN_PROVIDER = {"name": "API Token", "type": "api-token"}


def _metadata(token: TokenMetadata) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "roles": list(token.roles),
        "issuedAt": token.issued_at,
        "expiration": token.expiration,
        "revoked": token.revoked,
        "role": token.roles[0] if len(token.roles) == 1 else "",
    }


def _resource_to_access(permissions: PermissionSet) -> dict[str, str]:
    """Every resource, NO_ACCESS included, with the access the set gives (aliases counted)."""
    return {resource: access_to(permissions, resource).name for resource in RESOURCES}


def _role(role: Role) -> dict[str, Any]:
    return {**_user_role(role), "description": role.description}


def _user_role(role: Role) -> dict[str, Any]:
    return {"name": role.name, "resourceToAccess": _resource_to_access(role.permissions)}


@documented(TOKENS, wire.GenerateTokenResponse, body=wire.GenerateTokenRequest)
async def generate_token(request: web.Request) -> web.Response:
    """GenerateToken: issue an API token with roles the caller itself holds

    The secret is in the answer only; the service keeps its hash. `expiration` defaults to one
    year from now. A role giving more than the caller holds is refused with 403.
    """
    body = GENERATE_BODY.load(await json_body(request))
    access = request.app[ACCESS]
    secret, token = await access.generate_token(
        name=body["name"],
        roles=body["roles"] or ([body["role"]] if body["role"] else []),
        expiration=body["expiration"] or access.default_expiration(),
        issuer=request[PRINCIPAL],
    )
    note_audit(request, tokenId=token.id)
    return json_response(request, {"token": secret, "metadata": _metadata(token)})


@documented(TOKENS, wire.GetApiTokensResponse, query=wire.GetApiTokensParams)
async def list_tokens(request: web.Request) -> web.Response:
    """GetAPITokens: every token's metadata, or only the revoked or unrevoked ones"""
    params = query_params(TOKENS_PARAMS, request)
    tokens = await request.app[ACCESS].list_tokens(revoked=params.get("revoked"))
    return json_response(request, {"tokens": [_metadata(token) for token in tokens]})


@documented(TOKENS, wire.TokenMetadata, parameters=_TOKEN_ID)
async def get_token(request: web.Request) -> web.Response:
    """GetAPIToken: one token's metadata"""
    token = await request.app[ACCESS].get_token(request.match_info["id"])
    return json_response(request, _metadata(token))


@documented(TOKENS, responses.Empty, parameters=_TOKEN_ID)
async def revoke_token(request: web.Request) -> web.Response:
    """RevokeToken: the token stops working on every replica within 5 seconds"""
    await request.app[ACCESS].revoke_token(request.match_info["id"])
    return json_response(request, {})


@documented(TOKENS, wire.AllowedRolesResponse)
async def allowed_roles(request: web.Request) -> web.Response:
    """ListAllowedTokenRoles: the roles the caller may put in a token it generates"""
    names = await request.app[ACCESS].allowed_roles(request[PRINCIPAL])
    return json_response(request, {"roleNames": names})


def _provider(principal: Principal) -> dict[str, str]:
    if principal.kind is PrincipalKind.OIDC:
        return {"name": principal.issuer, "type": "oidc"}
    return _API_TOKEN_PROVIDER


@documented("AuthService", wire.AuthStatus)
async def auth_status(request: web.Request) -> web.Response:
    """GetAuthStatus: who the caller is, until when, its roles and permissions"""
    principal = request[PRINCIPAL]
    roles = [r for r in await request.app[ACCESS].list_roles() if r.name in principal.roles]
    user_info = {
        "username": principal.name,
        "friendlyName": principal.name,
        "permissions": {"resourceToAccess": _resource_to_access(principal.permissions)},
        "roles": [
            {"name": r.name, "resourceToAccess": _role(r)["resourceToAccess"]} for r in roles
        ],
    }
    status = {
        "userId": principal.id,
        "expires": principal.expires_at,
        "authProvider": _provider(principal),
        "userInfo": user_info,
    }
    return json_response(request, status)


@documented("AuthService", wire.Permissions)
async def my_permissions(request: web.Request) -> web.Response:
    """GetMyPermissions: the caller's access to every resource"""
    permissions = request[PRINCIPAL].permissions
    return json_response(request, {"resourceToAccess": _resource_to_access(permissions)})


@documented("RoleService", wire.GetRolesResponse)
async def list_roles(request: web.Request) -> web.Response:
    """GetRoles: the built-in roles, then the custom ones by name"""
    roles = await request.app[ACCESS].list_roles()
    return json_response(request, {"roles": [_role(role) for role in roles]})


def _access_levels(names: dict[str, str]) -> dict[str, Access]:
    try:
        return {resource: Access[name] for resource, name in names.items()}
    except KeyError as exc:
        levels = ", ".join(Access.__members__)
        raise InvalidArgument(f"unknown access {exc.args[0]!r}; accesses: {levels}") from exc


@documented("RoleService", responses.Empty, body=wire.Role, parameters=_ROLE_NAME)
async def create_role(request: web.Request) -> web.Response:
    """CreateRole: a custom role from a permission set (built-in roles cannot change)"""
    name = request.match_info["name"]
    body = ROLE_BODY.load(await json_body(request))
    if body["name"] not in ("", name):
        raise InvalidArgument("the role name in the path and in the body differ")
    permissions = _access_levels(body["resourceToAccess"])
    await request.app[ACCESS].create_role(name, permissions, body["description"])
    return json_response(request, {})
