"""Typed keys for everything the application shares between handlers."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pymongo.asynchronous.database import AsyncDatabase

from app.auth.oidc import OidcVerifier
from app.auth.principal import Principal
from app.config import Settings
from app.services.access import AccessService
from app.services.images import ImageService
from app.services.rescan import RescanService
from app.services.scanning import ScanService
from app.services.watched import WatchService

SETTINGS = web.AppKey("image_service.settings", Settings)
DB = web.AppKey("image_service.db", AsyncDatabase[dict[str, Any]])
IMAGES = web.AppKey("image_service.images", ImageService)
WATCHES = web.AppKey("image_service.watches", WatchService)
SCANS = web.AppKey("image_service.scans", ScanService)
RESCANS = web.AppKey("image_service.rescans", RescanService)
ACCESS = web.AppKey("image_service.access", AccessService)
# Only when OIDC issuers are configured.
OIDC = web.AppKey("image_service.oidc", OidcVerifier)
REQUEST_ID = web.RequestKey("image_service.request_id", str)
# Who is calling, set by the guard check on every route that needs credentials.
PRINCIPAL = web.RequestKey("image_service.principal", Principal)
# Set when a handler saw its client go away; metrics count it as 499.
CLIENT_GONE = web.RequestKey("image_service.client_gone", bool)
# The JSON object a handler read as its body; the audit log quotes a few of its fields.
JSON_BODY = web.RequestKey("image_service.json_body", dict)
