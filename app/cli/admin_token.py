"""The first credential of a local store: an `Admin` token kept in `<store dir>/admin-token`.

Created once; reused while it still authenticates, replaced (and said so) once revoked, expired
or lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from pymongo.errors import PyMongoError

from app.auth.permissions import ADMIN
from app.cli.database import command_database
from app.composition import build_access
from app.config import Settings
from app.errors import Unauthenticated
from app.services.access import AccessService
from storage.errors import StorageError

TOKEN_FILE = "admin-token"  # noqa: S105 - a file name
TOKEN_NAME = "local admin (make run)"  # noqa: S105 - the token's label


async def ensure_admin_token(settings: Settings, data_dir: Path) -> str:
    """Make sure `data_dir/admin-token` holds a working Admin token; returns what was done."""
    path = data_dir / TOKEN_FILE
    async with command_database(settings) as db:
        access = build_access(db, settings)
        kept = _read(path)
        if kept and await _works(access, kept):
            return f"API token ({ADMIN}) in {path}"
        secret, _ = await access.generate_token(
            name=TOKEN_NAME, roles=[ADMIN], expiration=access.default_expiration(), issuer=None
        )
    _write_private(path, secret)
    if kept is None:
        return f"new API token ({ADMIN}) written to {path}"
    return f"the token in {path} no longer works (revoked or expired): a new one was written"


def provide_admin_token(settings: Settings, data_dir: Path) -> bool:
    """For `serve --local-store`: the token made sure of and how to use it printed; False (and
    why on standard error) when that failed."""
    try:
        summary = asyncio.run(ensure_admin_token(settings, data_dir))
    except (StorageError, PyMongoError, OSError) as exc:
        print(f"image-service: cannot provide the admin token: {exc}", file=sys.stderr)
        return False
    path = data_dir / TOKEN_FILE
    print(usage(summary, path, _base_url(settings), _read(path) or ""), flush=True)
    return True


def usage(summary: str, path: Path, base_url: str, token: str) -> str:
    # The local store is a developer's own: its token is printed for the console's sign-in,
    # as a notebook server prints its URL with its token.
    return (
        f"{summary}\n"
        f"  console: open {base_url}/ and sign in with the token {token}\n"
        f"  export TOKEN=$(cat {path})\n"
        f'  curl -H "Authorization: Bearer $TOKEN" {base_url}/v1/imagescount'
    )


def _base_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host  # noqa: S104
    scheme = "https" if settings.tls_cert else "http"
    return f"{scheme}://{host}:{settings.port}"


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


async def _works(access: AccessService, secret: str) -> bool:
    try:
        await access.authenticate_token(secret)
    except Unauthenticated:
        return False
    return True


def _write_private(path: Path, secret: str) -> None:
    """Readable by its owner only, from the first byte on; replaced in one step."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    os.chmod(temporary, 0o600)  # whatever the umask
    os.replace(temporary, path)
