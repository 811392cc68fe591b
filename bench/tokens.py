"""The bearer token the benchmarks send: every /v1 route but ping needs one.

Servers started as `image-service serve` get a token made beforehand on their database with the
command line (`image-service token create`); our own benchmark server (`bench/api/our_server.py`)
makes one at start-up through the access service. Either way it lands in a file (mode 0600) that
the load generators read, so it never shows on a command line.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.common import IDENTITY, IMAGE_SERVICE, ROOT, WORK

TOKEN_NAME = "bench"
TOKEN_ROLE = "Admin"
TOKEN_LIFETIME = "12h"  # a benchmark's token should not outlive the run by much


def write_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")


def read_token(path: Path) -> str:
    return path.read_text().strip()


def cli_token(mongodb_uri: str, name: str) -> Path:
    """An Admin token made by `image-service token create` on that database, in a file.

    Raises:
        RuntimeError: the command failed or printed no token.
    """
    done = subprocess.run(  # noqa: S603 - our own command
        [
            IMAGE_SERVICE,
            "token",
            "create",
            "--name",
            TOKEN_NAME,
            "--role",
            TOKEN_ROLE,
            "--expires",
            TOKEN_LIFETIME,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MONGODB_URI": mongodb_uri, "IMAGE_SERVICE_LOG_LEVEL": "WARNING"},
        cwd=ROOT,
        check=False,
    )
    token = done.stdout.strip()
    if done.returncode != 0 or not token or "\n" in token:
        raise RuntimeError(f"token create failed ({done.returncode}):\n{done.stderr[-2000:]}")
    path = WORK / f"{name}.token"
    write_token(path, token)
    return path


def headers(token_file: Path | None) -> dict[str, str]:
    """The request headers of a benchmark client: no compression, and the token if any."""
    if token_file is None:
        return dict(IDENTITY)
    return {**IDENTITY, "Authorization": f"Bearer {read_token(token_file)}"}
