"""Registry credentials read from a Docker `config.json`.

Only the `auths` section is read: entries with `auth` (base64 "user:password"), or
`username`/`password`, and optionally `identitytoken` (an OAuth2 refresh token). Credential
helpers (`credsStore`, `credHelpers`) are ignored: running them means executing programs
named by the file, which this service does not do.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset(
    {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What we may send to one registry; the secrets never appear in repr()."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)

    @property
    def has_password(self) -> bool:
        return bool(self.username and self.password)


class CredentialStore:
    """Credentials by registry host; `docker.io` and its aliases share one entry."""

    def __init__(self, by_host: Mapping[str, Credentials] | None = None, *, source: str = ""):
        self._by_host = {normalize_registry_key(k): v for k, v in (by_host or {}).items()}
        self.source = source  # e.g. "config.json", named in ResolvedImage.data_source

    def __len__(self) -> int:
        return len(self._by_host)

    def for_registry(self, registry: str) -> Credentials | None:
        return self._by_host.get(normalize_registry_key(registry))


def normalize_registry_key(key: str) -> str:
    """`https://index.docker.io/v1/` → `docker.io`; `http://host:5000/path` → `host:5000`."""
    host = key.strip()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0].lower()
    return DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


def load_credentials(path: str | Path) -> CredentialStore:
    """Read the `auths` of a Docker config.json.

    Raises:
        ValueError: the file is unreadable, not JSON, or an entry's `auth` is not base64
            "user:password" (the message names the file and host, never the secret).
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read registry credentials from {path}: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"registry credentials file {path} does not hold a JSON object")
    return CredentialStore(parse_auths(document.get("auths"), str(path)), source="config.json")


def parse_auths(auths: Any, origin: str = "config.json") -> dict[str, Credentials]:
    """Credentials by normalized host from an `auths` object; a bare host wins over a URL key."""
    if auths is None:
        return {}
    if not isinstance(auths, dict):
        raise ValueError(f"{origin}: `auths` must be an object")
    found: dict[str, Credentials] = {}
    # URL-form keys first, so that a plain host key for the same registry overrides them
    for key in sorted(auths, key=lambda k: "://" not in k and "/" not in k):
        entry = auths[key]
        if not isinstance(entry, dict):
            raise ValueError(f"{origin}: the entry for {key!r} must be an object")
        credentials = _entry_credentials(entry, key, origin)
        if credentials is not None:
            found[normalize_registry_key(key)] = credentials
    return found


def _entry_credentials(entry: Mapping[str, Any], key: str, origin: str) -> Credentials | None:
    username = _text(entry.get("username"))
    password = _text(entry.get("password"))
    encoded = _text(entry.get("auth"))
    if encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" not in decoded:
            raise ValueError(f"{origin}: the `auth` of {key!r} is not base64 of user:password")
        username, password = decoded.split(":", 1)
    identity_token = _text(entry.get("identitytoken"))
    if not (username and password) and not identity_token:
        return None  # e.g. the empty entries Docker writes when a credsStore holds the secret
    return Credentials(username=username, password=password, identity_token=identity_token)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
