"""How the registry client behaves: platform, TLS, credentials file, timeouts and limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.scanner.model import DEFAULT_PLATFORM
from app.scanner.registry.outbound import parse_network
from app.scanner.registry.platforms import Platform

MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """Client settings; every registry is reached over verified HTTPS unless listed insecure."""

    platform: str = DEFAULT_PLATFORM  # "os/arch[/variant]" picked from an index or list
    insecure_registries: frozenset[str] = frozenset()  # hosts ("127.0.0.1:5000") over plain HTTP
    # host[:port] or CIDR entries scanning may reach although they are not public addresses
    # (the insecure registries are allowed too); see outbound.py
    allowlist: frozenset[str] = frozenset()
    ca_bundle: str | None = None  # PEM file of extra CA certificates trusted for HTTPS
    auth_file: str | None = None  # a Docker config.json holding registry credentials
    request_timeout_s: float = 30.0  # whole request (blobs: longest wait for the next bytes)
    connect_timeout_s: float = 5.0
    max_retries: int = 3
    backoff_base_s: float = 0.5
    max_retry_after_s: float = 30.0
    per_registry_concurrency: int = 4
    max_manifest_bytes: int = 4 * MIB
    max_config_bytes: int = 8 * MIB


def registry_settings_from_env(env: Mapping[str, str]) -> RegistrySettings:
    """Build RegistrySettings from environment variables (defaults for the unset ones).

    Raises:
        ValueError: listing every bad variable at once.
    """
    errors: list[str] = []
    defaults = RegistrySettings()
    platform = env.get("IMAGE_SERVICE_PLATFORM") or defaults.platform
    try:
        Platform.parse(platform)
    except ValueError as error:
        errors.append(f"IMAGE_SERVICE_PLATFORM: {error}")
    settings = RegistrySettings(
        platform=platform,
        insecure_registries=_hosts(env, "IMAGE_SERVICE_INSECURE_REGISTRIES", errors),
        allowlist=_hosts(env, "IMAGE_SERVICE_REGISTRY_ALLOWLIST", errors, cidrs=True),
        ca_bundle=_existing_file(env, "IMAGE_SERVICE_REGISTRY_CA_BUNDLE", errors),
        auth_file=_auth_file(env, errors),
        request_timeout_s=_positive_float(
            env, "IMAGE_SERVICE_REGISTRY_TIMEOUT_S", defaults.request_timeout_s, errors
        ),
        per_registry_concurrency=_positive_int(
            env, "IMAGE_SERVICE_REGISTRY_CONCURRENCY", defaults.per_registry_concurrency, errors
        ),
    )
    if errors:
        raise ValueError("invalid registry settings: " + "; ".join(errors))
    return settings


def _hosts(
    env: Mapping[str, str], name: str, errors: list[str], *, cidrs: bool = False
) -> frozenset[str]:
    """Comma-separated `host[:port]` entries (lower case); with `cidrs`, CIDRs too (normalized)."""
    hosts: set[str] = set()
    for item in (env.get(name) or "").split(","):
        host = item.strip().lower()
        if not host:
            continue
        if cidrs and "/" in host:
            try:
                hosts.add(str(parse_network(host)))
            except ValueError:
                errors.append(f"{name}: {item.strip()!r} is neither a host[:port] nor a CIDR")
            continue
        if "/" in host or " " in host:
            errors.append(f"{name}: {item.strip()!r} is not a host[:port]")
            continue
        hosts.add(host)
    return frozenset(hosts)


def _existing_file(env: Mapping[str, str], name: str, errors: list[str]) -> str | None:
    path = env.get(name)
    if not path:
        return None
    if not Path(path).is_file():
        errors.append(f"{name}: {path!r} is not a readable file")
    return path


def _auth_file(env: Mapping[str, str], errors: list[str]) -> str | None:
    """REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json."""
    if env.get("REGISTRY_AUTH_FILE"):
        return _existing_file(env, "REGISTRY_AUTH_FILE", errors)
    candidates: list[Path] = []
    if env.get("DOCKER_CONFIG"):
        candidates.append(Path(env["DOCKER_CONFIG"]) / "config.json")
    home = env.get("HOME") or os.path.expanduser("~")
    candidates.append(Path(home) / ".docker" / "config.json")
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return None


def _positive_float(env: Mapping[str, str], name: str, default: float, errors: list[str]) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        errors.append(f"{name} must be a positive number of seconds, not {raw!r}")
        return default
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int, errors: list[str]) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        errors.append(f"{name} must be a positive integer, not {raw!r}")
        return default
    return value
