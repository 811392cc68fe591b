"""docker-registry variants the plain `start_registry` cannot make: token auth and TLS.

A variant serves an existing storage root read-only, so images are pushed through a plain
registry on the same root (`tests.support.oci` speaks Basic auth or none, not tokens) and read
through the variant. The process is stopped with `tests.support.registry.stop_registry`.
"""

from __future__ import annotations

import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support.registry import (
    LOOPBACK,
    REGISTRY_BINARY,
    RunningRegistry,
    free_port,
    stop_registry,
)


@dataclass(frozen=True)
class TokenAuth:
    """The registry's `auth.token` section."""

    realm: str
    service: str
    issuer: str
    root_certificate: Path  # PEM bundle trusted to sign tokens


@dataclass(frozen=True)
class ServerTls:
    certificate: Path
    key: Path
    ca_certificate: Path  # what a client must trust to verify `certificate`


def _config(root: Path, port: int, token: TokenAuth | None, tls: ServerTls | None) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f'    rootdirectory: "{root}"',
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "    readonly:",
        "      enabled: true",
        "http:",
        f"  addr: {LOOPBACK}:{port}",
    ]
    if tls is not None:
        lines += ["  tls:", f'    certificate: "{tls.certificate}"', f'    key: "{tls.key}"']
    if token is not None:
        lines += [
            "auth:",
            "  token:",
            f'    realm: "{token.realm}"',
            f'    service: "{token.service}"',
            f'    issuer: "{token.issuer}"',
            f'    rootcertbundle: "{token.root_certificate}"',
        ]
    return "\n".join(lines) + "\n"


def _probe(url: str, context: ssl.SSLContext | None) -> int | None:
    try:
        with urllib.request.urlopen(f"{url}/v2/", timeout=1, context=context) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return None


def start_registry_variant(
    workdir: Path,
    root: Path,
    *,
    token: TokenAuth | None = None,
    tls: ServerTls | None = None,
    timeout_s: float = 15.0,
) -> tuple[RunningRegistry, subprocess.Popen[bytes]]:
    """Start docker-registry serving `root` read-only, with token auth and/or TLS.

    Raises:
        RuntimeError: the registry exited or did not answer in time (with its log's tail).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(_config(root, port, token, tls))
    log_path = workdir / "registry.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [str(REGISTRY_BINARY), "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
        )
    host = f"{LOOPBACK}:{port}"
    scheme = "https" if tls is not None else "http"
    registry = RunningRegistry(host=host, url=f"{scheme}://{host}", root=root, pid=process.pid)
    context = ssl.create_default_context(cafile=str(tls.ca_certificate)) if tls else None
    expected = 401 if token is not None else 200
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            process.wait()
            raise RuntimeError(f"docker-registry exited:\n{log_path.read_text(errors='replace')}")
        status = _probe(registry.url, context)
        if status == expected:
            return registry, process
        if status is not None:
            stop_registry(process)
            raise RuntimeError(f"docker-registry answered GET /v2/ with {status}, not {expected}")
        time.sleep(0.1)
    stop_registry(process)
    raise RuntimeError(f"docker-registry did not answer on {host} within {timeout_s:.0f}s")
