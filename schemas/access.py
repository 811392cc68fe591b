"""Tokens, roles and the caller's own status (upstream's api_token_service, auth_service and
role_service messages)."""

from __future__ import annotations

from schemas.base import Message, ProtoBool, ProtoString, Repeated, StringMap, Timestamp
from schemas.message import ProtoSchema
from schemas.params import QueryBool, QuerySchema
from schemas.requests import RequestSchema

_ACCESS_MAP = {"description": "resource → `NO_ACCESS`, `READ_ACCESS` or `READ_WRITE_ACCESS`"}


class GenerateTokenRequest(RequestSchema):
    """POST /v1/apitokens/generate body (v1.GenerateTokenRequest).

    Loads to ``{"name": str, "roles": [str], "role": str, "expiration": datetime | None}``.
    """

    name = ProtoString(metadata={"description": "what the token is for"})
    roles = Repeated(ProtoString(), metadata={"description": "role names"})
    role = ProtoString(metadata={"description": "deprecated: one role name (use roles)"})
    expiration = Timestamp(metadata={"description": "RFC 3339; default one year from now"})


class TokenMetadata(ProtoSchema):
    """storage.TokenMetadata; ``role`` (deprecated) is the only role of a one-role token."""

    id = ProtoString()
    name = ProtoString()
    roles = Repeated(ProtoString())
    issuedAt = Timestamp()
    expiration = Timestamp()
    revoked = ProtoBool()
    role = ProtoString()


class GenerateTokenResponse(ProtoSchema):
    """v1.GenerateTokenResponse: the secret, shown only this once, and its metadata."""

    token = ProtoString()
    metadata = Message(TokenMetadata)


class GetApiTokensParams(QuerySchema):
    """GET /v1/apitokens. Loads to ``{"revoked": bool}``, or ``{}`` when absent (all tokens)."""

    revoked = QueryBool(metadata={"description": "only revoked (true) or unrevoked (false)"})


class GetApiTokensResponse(ProtoSchema):
    """v1.GetAPITokensResponse."""

    tokens = Repeated(Message(TokenMetadata))


class AllowedRolesResponse(ProtoSchema):
    """v1.ListAllowedTokenRolesResponse: the roles the caller may put in a token."""

    roleNames = Repeated(ProtoString())


class Permissions(ProtoSchema):
    """v1.GetPermissionsResponse: every resource with the caller's access to it."""

    resourceToAccess = StringMap(metadata=_ACCESS_MAP)


class UserRole(Permissions):
    """storage.UserInfo.Role: a role's name and permissions."""

    name = ProtoString()


class Role(UserRole):
    """storage.Role with its permissions inline (upstream's deprecated resourceToAccess)."""

    description = ProtoString()


class GetRolesResponse(ProtoSchema):
    """v1.GetRolesResponse."""

    roles = Repeated(Message(Role))


class AuthProvider(ProtoSchema):
    """storage.AuthProvider, as far as a caller's status shows it."""

    name = ProtoString()
    type = ProtoString()


class UserInfo(ProtoSchema):
    """storage.UserInfo."""

    username = ProtoString()
    friendlyName = ProtoString()
    permissions = Message(Permissions)
    roles = Repeated(Message(UserRole))


class AuthStatus(ProtoSchema):
    """v1.AuthStatus: who the caller is, until when, and what it may do."""

    userId = ProtoString()
    expires = Timestamp()
    authProvider = Message(AuthProvider)
    userInfo = Message(UserInfo)
