"""The OCI distribution API v2 client: manifests, configs and blobs from any registry."""

from __future__ import annotations

from app.scanner.registry.blobs import BlobStream
from app.scanner.registry.client import RegistryClient
from app.scanner.registry.credentials import Credentials, CredentialStore, load_credentials
from app.scanner.registry.settings import RegistrySettings, registry_settings_from_env

__all__ = [
    "BlobStream",
    "CredentialStore",
    "Credentials",
    "RegistryClient",
    "RegistrySettings",
    "load_credentials",
    "registry_settings_from_env",
]
