"""Settings, read once from the environment at start-up and passed down."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from app.auth.oidc_config import OidcIssuer, issuers_from_env
from app.cores import available_cores
from app.scanner.registry.settings import RegistrySettings, registry_settings_from_env

DEFAULT_MONGODB_URI = "mongodb://127.0.0.1:27017/image_service"
DEFAULT_DATABASE = "image_service"
# IMAGE_SERVICE_AUDIT_LOG: these two words, or a file to append to
AUDIT_LOG_STDOUT = "stdout"
AUDIT_LOG_OFF = "off"
OSV_BUCKET_URL = "https://osv-vulnerabilities.storage.googleapis.com"
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
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    # scanning: how many analyses at once, how long a caller waits for one, how long one takes
    max_concurrent_scans: int = 8
    # admission control (app/admission.py): store-heavy requests in flight at once, how many may
    # queue for a slot and for how long (then 429); exports have a smaller budget of their own
    # with a queue as long as it. Together well under the driver's pool (maxPoolSize 100).
    # The in-flight limit adapts below its maximum to keep requests within the target latency.
    max_in_flight: int = 32
    max_queued: int = 64
    queue_wait_s: float = 1.0
    max_exports: int = 2
    target_latency_s: float = 1.0
    scan_queue_wait_s: float = 5.0
    scan_timeout_s: float = 600.0
    # per layer: compressed bytes, bytes once inflated, tar entries (decompression bombs)
    max_layer_bytes: int = 2 << 30
    max_inflated_layer_bytes: int = 8 << 30
    max_layer_files: int = 1_000_000
    # worker processes that analyse layers (inflate, tar walk, parse); 0: threads of this process
    scan_workers: int = field(default_factory=available_cores)
    # watched names are rescanned this often (0 turns the loop off); one replica leads
    reprocess_interval_s: float = 4 * 3600.0
    lease_ttl_s: float = 60.0
    # the listener (app/listener.py): open connections at once; time to read a request's headers
    # (and to keep an idle connection) and then its body; exact origins allowed by CORS; TLS files
    max_connections: int = 1000
    request_read_timeout_s: float = 30.0
    cors_origins: tuple[str, ...] = ()
    tls_cert: str = ""
    tls_key: str = ""
    # machine-to-machine callers: JWTs from these OIDC issuers (app/auth/oidc.py)
    oidc_issuers: tuple[OidcIssuer, ...] = ()
    # when set, /metrics answers only `Authorization: Bearer <metrics_token>`
    metrics_token: str = ""
    # where the audit log's JSON lines go (app/audit.py): stdout, off, or a file path
    audit_log: str = AUDIT_LOG_STDOUT
    # the vulnerability feed (app/services/feed_sync.py): archives in osv.dev's layout
    # (<url>/<ecosystem>/all.zip) fetched by `vulndb sync` and by one replica every interval
    # (0: never); a feed older than the maximum age (0: any age) is a warning in /readyz
    vulndb_url: str = OSV_BUCKET_URL
    vulndb_ecosystems: tuple[str, ...] = ()  # none: every ecosystem the matcher compares
    vulndb_sync_interval_s: float = 0.0
    vulndb_max_age_s: float = 0.0
    vulndb_max_download_bytes: int = 1 << 30
    vulndb_download_timeout_s: float = 900.0

    def with_overrides(self, **changes: Any) -> Settings:
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


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(h|ms|m|s))")


def parse_duration_s(text: str) -> float:
    """Seconds in `4h`, `90m`, `1h30m`, `10s`, `500ms`, or a plain number of seconds.

    Raises:
        ValueError: anything else.
    """
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 4h, 30m, 45s)")
    factor = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * factor[u] for n, u in parts)


def _seconds(
    env: Mapping[str, str], name: str, default: float, errors: list[str], *, minimum: float = 0
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse_duration_s(raw)
    except ValueError as exc:
        errors.append(f"{name}: {exc}")
        return default
    if value < minimum:
        errors.append(f"{name} must be at least {minimum:g}s, not {raw!r}")
    return value


def _origins(raw: str, errors: list[str]) -> tuple[str, ...]:
    """Comma-separated exact origins (`https://ui.example.com`), without a path or a wildcard."""
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or "*" in origin:
            errors.append(
                f"IMAGE_SERVICE_CORS_ORIGINS: {origin!r} is not an origin like https://host[:port]"
            )
    return origins


def feed_url_problem(url: str) -> str | None:
    """Why `url` cannot be the feed's base URL: http(s), a host, no credentials, query or
    fragment (they would end up in logs and error messages)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return "the URL must not carry credentials"
    if parts.query or parts.fragment:
        return "the URL must not have a query or a fragment"
    return None


def _feed_url(raw: str | None, errors: list[str]) -> str:
    url = (raw or OSV_BUCKET_URL).strip().rstrip("/")
    problem = feed_url_problem(url)
    if problem:
        errors.append(f"IMAGE_SERVICE_VULNDB_URL: {problem}")
    return url


def _ecosystems(raw: str, errors: list[str]) -> tuple[str, ...]:
    """Comma-separated osv.dev ecosystem directories (`Debian`, `PyPI`, `Rocky Linux`)."""
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    for name in names:
        if "/" in name or name in (".", "..") or not name.isprintable():
            errors.append(f"IMAGE_SERVICE_VULNDB_ECOSYSTEMS: {name!r} is not an ecosystem name")
    return names


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
        max_concurrent_scans=_int(env, "IMAGE_SERVICE_MAX_CONCURRENT_SCANS", 8, errors, minimum=1),
        max_in_flight=_int(env, "IMAGE_SERVICE_MAX_IN_FLIGHT", 32, errors, minimum=1),
        max_queued=_int(env, "IMAGE_SERVICE_MAX_QUEUED", 64, errors, minimum=0),
        queue_wait_s=_seconds(env, "IMAGE_SERVICE_QUEUE_WAIT", 1.0, errors),
        max_exports=_int(env, "IMAGE_SERVICE_MAX_EXPORTS", 2, errors, minimum=1),
        target_latency_s=_seconds(env, "IMAGE_SERVICE_TARGET_LATENCY", 1.0, errors),
        scan_queue_wait_s=_seconds(env, "IMAGE_SERVICE_SCAN_QUEUE_WAIT", 5.0, errors),
        scan_timeout_s=_seconds(env, "IMAGE_SERVICE_SCAN_TIMEOUT", 600.0, errors, minimum=1),
        max_layer_bytes=_int(env, "IMAGE_SERVICE_MAX_LAYER_BYTES", 2 << 30, errors, minimum=1),
        max_inflated_layer_bytes=_int(
            env, "IMAGE_SERVICE_MAX_INFLATED_LAYER_BYTES", 8 << 30, errors, minimum=1
        ),
        max_layer_files=_int(env, "IMAGE_SERVICE_MAX_LAYER_FILES", 1_000_000, errors, minimum=1),
        scan_workers=_int(env, "IMAGE_SERVICE_SCAN_WORKERS", available_cores(), errors, minimum=0),
        reprocess_interval_s=_seconds(env, "IMAGE_SERVICE_REPROCESS_INTERVAL", 4 * 3600.0, errors),
        lease_ttl_s=_seconds(env, "IMAGE_SERVICE_LEASE_TTL", 60.0, errors, minimum=1),
        max_connections=_int(env, "IMAGE_SERVICE_MAX_CONNECTIONS", 1000, errors, minimum=1),
        request_read_timeout_s=_seconds(
            env, "IMAGE_SERVICE_REQUEST_READ_TIMEOUT", 30.0, errors, minimum=1
        ),
        cors_origins=_origins(env.get("IMAGE_SERVICE_CORS_ORIGINS", ""), errors),
        tls_cert=env.get("IMAGE_SERVICE_TLS_CERT", ""),
        tls_key=env.get("IMAGE_SERVICE_TLS_KEY", ""),
        metrics_token=env.get("IMAGE_SERVICE_METRICS_TOKEN", ""),
        audit_log=env.get("IMAGE_SERVICE_AUDIT_LOG") or AUDIT_LOG_STDOUT,
        vulndb_url=_feed_url(env.get("IMAGE_SERVICE_VULNDB_URL"), errors),
        vulndb_ecosystems=_ecosystems(env.get("IMAGE_SERVICE_VULNDB_ECOSYSTEMS", ""), errors),
        vulndb_sync_interval_s=_seconds(env, "IMAGE_SERVICE_VULNDB_SYNC_INTERVAL", 0.0, errors),
        vulndb_max_age_s=_seconds(env, "IMAGE_SERVICE_VULNDB_MAX_AGE", 0.0, errors),
        vulndb_max_download_bytes=_int(
            env, "IMAGE_SERVICE_VULNDB_MAX_DOWNLOAD_BYTES", 1 << 30, errors, minimum=1
        ),
        vulndb_download_timeout_s=_seconds(
            env, "IMAGE_SERVICE_VULNDB_DOWNLOAD_TIMEOUT", 900.0, errors, minimum=1
        ),
    )
    try:
        settings = replace(settings, registry=registry_settings_from_env(env))
    except ValueError as exc:
        errors.append(str(exc))
    try:
        oidc_issuers = issuers_from_env(env.get("IMAGE_SERVICE_OIDC_ISSUERS", ""))
        settings = replace(settings, oidc_issuers=oidc_issuers)
    except ValueError as exc:
        errors.append(str(exc))
    if settings.log_level not in LOG_LEVELS:
        errors.append(f"IMAGE_SERVICE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    if bool(settings.tls_cert) != bool(settings.tls_key):
        errors.append(
            "IMAGE_SERVICE_TLS_CERT and IMAGE_SERVICE_TLS_KEY go together: set both or neither"
        )
    if settings.port > 65535:
        errors.append(f"IMAGE_SERVICE_PORT must be <= 65535, not {settings.port}")
    if errors:
        raise SettingsError("; ".join(errors))
    return settings
