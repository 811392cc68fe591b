"""A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on loopback.

`start_registry` writes a config into a work directory, starts the registry on a free port with
filesystem storage under `workdir/data`, and waits until `GET /v2/` answers. `stop_registry`
ends that one process by its PID.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bcrypt

REGISTRY_BINARY = Path("/usr/bin/docker-registry")
LOOPBACK = "127.0.0.1"
REALM = "scanner-tests"


@dataclass(frozen=True)
class RunningRegistry:
    """Where a started registry listens and keeps its data."""

    host: str  # "127.0.0.1:PORT": what goes into an image name, f"{host}/repo:tag"
    url: str  # "http://127.0.0.1:PORT"
    root: Path  # storage root directory (the filesystem driver's rootdirectory)
    pid: int
    username: str | None = None
    password: str | None = None

    @property
    def auth_header(self) -> str | None:
        """The `Authorization` value for this registry's credentials, or None without auth."""
        if self.username is None or self.password is None:
            return None
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _htpasswd_line(username: str, password: str) -> str:
    # bcrypt writes "$2b$"; Go's golang.org/x/crypto/bcrypt accepts $2a$, $2b$ and $2y$ alike.
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return f"{username}:{hashed}\n"


def base_config(root: Path, port: int, *, read_only: bool = False) -> list[str]:
    """The config lines every test registry shares: logs, filesystem storage, loopback."""
    maintenance = ["  maintenance:", "    uploadpurging:", "      enabled: false"]
    if read_only:
        maintenance += ["    readonly:", "      enabled: true"]
    return [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f'    rootdirectory: "{root}"',
        "  delete:",
        "    enabled: true",
        *maintenance,
        # No `cache:` section: without a blob descriptor cache every request stats the storage,
        # so bytes changed on disk (corrupt_blob) are what the registry serves next.
        "http:",
        f"  addr: {LOOPBACK}:{port}",
        f"  secret: {secrets.token_hex(16)}",
    ]


def _config(root: Path, port: int, htpasswd: Path | None) -> str:
    lines = base_config(root, port)
    if htpasswd is not None:
        lines += [
            "auth:",
            "  htpasswd:",
            f"    realm: {REALM}",
            f'    path: "{htpasswd}"',
        ]
    return "\n".join(lines) + "\n"


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _probe(url: str, context: ssl.SSLContext | None = None) -> int | None:
    """The status of `GET {url}/v2/`, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(f"{url}/v2/", timeout=1, context=context) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return None


def start_registry(
    workdir: Path,
    *,
    credentials: tuple[str, str] | None = None,
    timeout_s: float = 15.0,
) -> tuple[RunningRegistry, subprocess.Popen[bytes]]:
    """Start docker-registry with filesystem storage in `workdir/data`, on a free loopback port.

    With `credentials` (username, password) the registry requires htpasswd Basic auth.
    Returns the registry's address and the process; pass the process to `stop_registry`.

    Raises:
        RuntimeError: the binary is missing, or the registry exited or did not answer in time
            (the message carries the tail of `workdir/registry.log`).
    """
    if not REGISTRY_BINARY.is_file() or not os.access(REGISTRY_BINARY, os.X_OK):
        raise RuntimeError(
            "docker-registry is not installed: make test installs it with apt-get (run as root)"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "data"
    root.mkdir(exist_ok=True)
    htpasswd: Path | None = None
    if credentials is not None:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(_htpasswd_line(*credentials))
    port = free_port()

    def describe(pid: int) -> RunningRegistry:
        host = f"{LOOPBACK}:{port}"
        return RunningRegistry(
            host=host,
            url=f"http://{host}",
            root=root,
            pid=pid,
            username=credentials[0] if credentials else None,
            password=credentials[1] if credentials else None,
        )

    expected = 401 if credentials is not None else 200
    return run_registry(
        workdir, _config(root, port, htpasswd), describe, expected=expected, timeout_s=timeout_s
    )


def run_registry(
    workdir: Path,
    config_text: str,
    describe: Callable[[int], RunningRegistry],
    *,
    expected: int,
    context: ssl.SSLContext | None = None,
    timeout_s: float = 15.0,
) -> tuple[RunningRegistry, subprocess.Popen[bytes]]:
    """Start docker-registry with this config and wait until `GET /v2/` answers `expected`.

    `describe(pid)` says where it listens. Raises RuntimeError (with the log's tail) when the
    registry exits, answers something else, or does not answer in time.
    """
    config = workdir / "config.yml"
    config.write_text(config_text)
    log_path = workdir / "registry.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [str(REGISTRY_BINARY), "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
        )
    registry = describe(process.pid)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            process.wait()
            raise RuntimeError(
                f"docker-registry exited with status {process.returncode}:\n{_log_tail(log_path)}"
            )
        status = _probe(registry.url, context)
        if status == expected:
            return registry, process
        if status is not None:
            stop_registry(process)
            raise RuntimeError(
                f"docker-registry answered GET /v2/ with {status}, expected {expected}:\n"
                f"{_log_tail(log_path)}"
            )
        time.sleep(0.1)
    stop_registry(process)
    raise RuntimeError(
        f"docker-registry did not answer on {registry.host} within {timeout_s:.0f}s:\n"
        f"{_log_tail(log_path)}"
    )


def stop_registry(process: subprocess.Popen[bytes], *, timeout_s: float = 10.0) -> None:
    """End the registry process by its PID (SIGTERM, then SIGKILL) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
