"""Settings, read once from the environment at start-up and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

DEFAULT_MONGODB_URI = "mongodb://127.0.0.1:27017/image_service"
DEFAULT_DATABASE = "image_service"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """One or more environment variables are invalid."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads from its environment."""

    mongodb_uri: str = DEFAULT_MONGODB_URI
    database: str = DEFAULT_DATABASE
    host: str = "127.0.0.1"
    port: int = 8080
    # Every query gets a server-side time limit; an export cursor gets its own (upstream: 10 min).
    query_timeout_ms: int = 15_000
    export_cursor_timeout_ms: int = 600_000
    export_batch_size: int = 256
    max_body_bytes: int = 1 << 20
    regex_max_length: int = 256
    mongo_connect_timeout_ms: int = 5_000
    log_level: str = "INFO"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def database_from_uri(uri: str) -> str:
    """The database named in the URI path, or the default one."""
    path = urlsplit(uri).path.lstrip("/")
    return path.split("/")[0] or DEFAULT_DATABASE


def _int(
    env: Mapping[str, str], name: str, default: int, errors: list[str], *, minimum: int = 0
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(f"{name} must be an integer, not {raw!r}")
        return default
    if value < minimum:
        errors.append(f"{name} must be >= {minimum}, not {value}")
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build Settings from environment variables.

    Raises:
        SettingsError: listing every bad variable at once.
    """
    errors: list[str] = []
    uri = env.get("MONGODB_URI") or DEFAULT_MONGODB_URI
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        errors.append(f"MONGODB_URI must start with mongodb:// or mongodb+srv://, not {uri!r}")
    settings = Settings(
        mongodb_uri=uri,
        database=database_from_uri(uri),
        host=env.get("IMAGE_SERVICE_HOST") or "127.0.0.1",
        port=_int(env, "IMAGE_SERVICE_PORT", 8080, errors, minimum=0),
        query_timeout_ms=_int(env, "IMAGE_SERVICE_QUERY_TIMEOUT_MS", 15_000, errors, minimum=1),
        export_cursor_timeout_ms=_int(
            env, "IMAGE_SERVICE_EXPORT_TIMEOUT_MS", 600_000, errors, minimum=1
        ),
        export_batch_size=_int(env, "IMAGE_SERVICE_EXPORT_BATCH_SIZE", 256, errors, minimum=1),
        max_body_bytes=_int(env, "IMAGE_SERVICE_MAX_BODY_BYTES", 1 << 20, errors, minimum=1024),
        regex_max_length=_int(env, "IMAGE_SERVICE_REGEX_MAX_LENGTH", 256, errors, minimum=1),
        log_level=(env.get("IMAGE_SERVICE_LOG_LEVEL") or "INFO").upper(),
    )
    if settings.log_level not in LOG_LEVELS:
        errors.append(f"IMAGE_SERVICE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    if settings.port > 65535:
        errors.append(f"IMAGE_SERVICE_PORT must be <= 65535, not {settings.port}")
    if errors:
        raise SettingsError("; ".join(errors))
    return settings
