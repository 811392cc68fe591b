"""docker-registry variants the plain `start_registry` cannot make: token auth and TLS.

A variant serves an existing storage root read-only, so images are pushed through a plain
registry on the same root (`tests.support.oci` speaks Basic auth or none, not tokens) and read
through the variant. The process is stopped with `tests.support.registry.stop_registry`.
"""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.registry import (
    LOOPBACK,
    RunningRegistry,
    base_config,
    free_port,
    run_registry,
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
    lines = base_config(root, port, read_only=True)
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
    host = f"{LOOPBACK}:{port}"
    scheme = "https" if tls is not None else "http"

    def describe(pid: int) -> RunningRegistry:
        return RunningRegistry(host=host, url=f"{scheme}://{host}", root=root, pid=pid)

    return run_registry(
        workdir,
        _config(root, port, token, tls),
        describe,
        expected=401 if token is not None else 200,
        context=ssl.create_default_context(cafile=str(tls.ca_certificate)) if tls else None,
        timeout_s=timeout_s,
    )
