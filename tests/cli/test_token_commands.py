"""`image-service token …` and `role …` as an operator runs them against the nx-27017 store, and
the Admin token `serve --local-store` keeps in `DIR/admin-token`."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli.local_store import LOOPBACK, LocalStore, free_port, stop_process
from app.composition import build_access
from app.config import Settings
from app.errors import Unauthenticated
from app.services.access import AccessService
from storage.mongo import open_client

TOKEN_LINE = re.compile(r"isvc_[A-Za-z0-9_-]{43}\n")


def cli(uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MONGODB_URI": uri},
        timeout=120,
        check=False,
    )


def shell(uri: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        ["/bin/bash", "-c", script],  # noqa: S607
        capture_output=True,
        text=True,
        env={**os.environ, "MONGODB_URI": uri},
        timeout=120,
        check=True,
    )


@pytest.fixture
def uri(nx_store: LocalStore) -> str:
    return f"{nx_store.uri}cli_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def access(uri: str) -> AsyncIterator[AccessService]:
    """The service on the commands' database, as a server replica would see it."""
    base, database = uri.rsplit("/", 1)
    mongo = open_client(base + "/", timeout_ms=5000)
    yield build_access(mongo[database], Settings())
    await mongo.drop_database(database)
    await mongo.close()


async def test_token_create_prints_only_the_token(uri: str, access: AccessService) -> None:
    result = cli(uri, "token", "create", "--name", "ci", "--role", "Admin")
    assert result.returncode == 0, result.stderr
    assert TOKEN_LINE.fullmatch(result.stdout)
    principal = await access.authenticate_token(result.stdout.strip())
    assert (principal.name, principal.roles) == ("ci", ("Admin",))
    token = await access.get_token(principal.id)
    expected = datetime.now(UTC) + timedelta(days=365)  # upstream's default lifetime
    assert token.expiration is not None
    assert abs(token.expiration - expected) < timedelta(minutes=2)


async def test_token_in_a_shell_variable(uri: str, access: AccessService) -> None:
    script = (
        f'TOKEN=$("{sys.executable}" -m app token create --name ci --role Analyst '
        '--role "Continuous Integration" --expires 2h) && printf "[%s]" "$TOKEN"'
    )
    result = shell(uri, script)
    match = re.fullmatch(r"\[(isvc_[A-Za-z0-9_-]{43})\]", result.stdout)
    assert match, result.stdout
    principal = await access.authenticate_token(match[1])
    assert principal.roles == ("Analyst", "Continuous Integration")
    assert principal.expires_at is not None
    left = principal.expires_at - datetime.now(UTC)
    assert timedelta(hours=1, minutes=55) < left <= timedelta(hours=2)


async def test_list_and_revoke_by_name_or_id(uri: str, access: AccessService) -> None:
    first = cli(uri, "token", "create", "--name", "deploy", "--role", "Admin").stdout.strip()
    second = cli(
        uri, "token", "create", "--name", "nightly", "--role", "None", "--expires", "never"
    )
    assert second.returncode == 0
    listing = cli(uri, "token", "list")
    assert listing.returncode == 0
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "ROLES", "ISSUED", "EXPIRES", "REVOKED"]
    assert [row.split()[1] for row in rows] == ["deploy", "nightly"]
    assert rows[0].split()[-1] == "no"
    assert rows[1].split()[-2:] == ["never", "no"]
    assert first not in listing.stdout  # secrets are never shown

    revoked = cli(uri, "token", "revoke", "deploy")
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(Unauthenticated, match="revoked"):
        await access.authenticate_token(first)
    nightly_id = rows[1].split()[0]
    assert cli(uri, "token", "revoke", nightly_id).returncode == 0
    after = cli(uri, "token", "list").stdout.splitlines()[1:]
    assert [row.split()[-1] for row in after] == ["yes", "yes"]

    missing = cli(uri, "token", "revoke", "nobody")
    assert missing.returncode == 2
    assert 'API token "nobody" does not exist' in missing.stderr


async def test_custom_roles(uri: str, access: AccessService) -> None:
    created = cli(
        uri,
        "role",
        "create",
        "scanner",
        "--permission",
        "Image=READ_WRITE",
        "--permission",
        "WatchedImage=read_access",
        "--description",
        "scans images",
    )
    assert created.returncode == 0, created.stderr
    listing = cli(uri, "role", "list").stdout.splitlines()
    assert listing[0].split() == ["NAME", "KIND", "DESCRIPTION", "PERMISSIONS"]
    assert [line.split()[0] for line in listing[1:]] == [
        "Admin",
        "Analyst",
        "Continuous",
        "None",
        "scanner",
    ]
    columns = re.split(r"\s{2,}", listing[-1])
    assert columns == ["scanner", "custom", "scans images", "Image=READ_WRITE, WatchedImage=READ"]
    secret = cli(uri, "token", "create", "--name", "s", "--role", "scanner").stdout.strip()
    principal = await access.authenticate_token(secret)
    assert {k: v.name for k, v in principal.permissions.items()} == {
        "Image": "READ_WRITE_ACCESS",
        "WatchedImage": "READ_ACCESS",
    }
    again = cli(uri, "role", "create", "scanner", "--permission", "Image=READ")
    assert (again.returncode, again.stderr.strip()) == (
        2,
        'image-service role create: role "scanner" already exists',
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "create", "--name", "x", "--role", "Ghost"], 'unknown role "Ghost"'),
        (["token", "create", "--name", " ", "--role", "Admin"], "name must be specified"),
        (["token", "create", "--name", "x"], "--role"),
        (["token", "create", "--name", "x", "--role", "Admin", "--expires", "0d"], "duration"),
        (["token", "create", "--name", "x", "--role", "Admin", "--expires", "9y"], "duration"),
        (["role", "create", "r", "--permission", "Image=WRITE"], "invalid permission"),
        (["role", "create", "r", "--permission", "Images=READ"], "unknown resource Images"),
        (["role", "create", "Admin", "--permission", "Image=READ"], "built in"),
    ],
)
def test_bad_input_exits_2_with_a_message(uri: str, args: list[str], message: str) -> None:
    result = cli(uri, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_an_unreachable_database_exits_1() -> None:
    result = cli(f"mongodb://{LOOPBACK}:{free_port()}/x", "token", "list")
    assert result.returncode == 1
    assert "the database is unavailable" in result.stderr
    assert result.stdout == ""


# serve --local-store


class LocalServer:
    """`image-service serve --local-store DIR` on free ports, started and stopped by PID."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.store_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.stdout = ""

    @property
    def store_uri(self) -> str:
        return f"mongodb://{LOOPBACK}:{self.store_port}/image_service"

    def start(self) -> str:
        """Start, wait until it listens; returns what it printed on standard output."""
        out = self.data_dir.parent / f"serve-{time.monotonic_ns()}.out"
        env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
        with open(out, "wb") as stdout:
            self.process = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "app",
                    "serve",
                    "--port",
                    str(self.port),
                    "--local-store",
                    str(self.data_dir),
                    "--local-store-port",
                    str(self.store_port),
                ],  # fmt: skip
                stdout=stdout,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + 60
        while not _listening(self.port):
            assert self.process.poll() is None, out.read_text()
            assert time.monotonic() < deadline, "the server did not listen within 60 s"
            time.sleep(0.2)
        return out.read_text()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, 30)
            self.process = None
        # the store is the server's child; it is gone once the server stopped cleanly
        pid_file = self.data_dir / "nx-27017.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip() or 0)
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    local = LocalServer(tmp_path / "data")
    yield local
    local.stop()


def _count(port: int, token: str | None) -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(  # noqa: S310
        f"http://{LOOPBACK}:{port}/v1/imagescount", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_serve_on_a_local_store_keeps_one_admin_token(server: LocalServer) -> None:
    token_file = server.data_dir / "admin-token"
    printed = server.start()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text()
    assert TOKEN_LINE.fullmatch(token)
    assert f"new API token (Admin) written to {token_file}" in printed
    assert f"export TOKEN=$(cat {token_file})" in printed
    console = (
        f"console: open http://127.0.0.1:{server.port}/ and sign in with the token {token.strip()}"
    )
    assert console in printed
    assert f'curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:{server.port}/' in printed
    assert _count(server.port, token.strip()) == 200
    assert _count(server.port, None) == 401
    server.stop()

    # a second start keeps the token
    printed = server.start()
    assert token_file.read_text() == token
    assert f"API token (Admin) in {token_file}" in printed
    # revoked by an operator: the next start writes a new one and says so
    revoked = cli(server.store_uri, "token", "revoke", "local admin (make run)")
    assert revoked.returncode == 0, revoked.stderr
    server.stop()
    printed = server.start()
    renewed = token_file.read_text()
    assert renewed != token
    assert "no longer works (revoked or expired): a new one was written" in printed
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert _count(server.port, renewed.strip()) == 200
    assert _count(server.port, token.strip()) == 401
    server.stop()

    # the file lost: a new token
    token_file.unlink()
    printed = server.start()
    assert "new API token (Admin) written" in printed
    assert _count(server.port, token_file.read_text().strip()) == 200
    listing = cli(server.store_uri, "token", "list").stdout.splitlines()[1:]
    # the lost file's token stays valid until an operator revokes it
    assert [row.split()[-1] for row in listing] == ["yes", "no", "no"]
