"""`image-service import` and `seed` as a user runs them, against the nx-27017 store."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app.cli.local_store import LocalStore
from app.cli.seed_data import generate_images, write_ndjson
from app.config import Settings
from app.main import create_app
from storage.mongo import open_client
from tests.support.access import bearer, issue_token


def cli(store: LocalStore, database: str, *args: str, stdin: bytes | None = None) -> Any:
    env = {**os.environ, "MONGODB_URI": f"{store.uri}{database}"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture
def database() -> str:
    return f"cli_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def api(aiohttp_client: Any, nx_store: LocalStore, database: str) -> AsyncIterator[Any]:
    mongo = open_client(nx_store.uri, timeout_ms=5000)
    settings = Settings(mongodb_uri=nx_store.uri, database=database)
    token = await issue_token(mongo[database], settings)
    yield await aiohttp_client(create_app(settings, db=mongo[database]), headers=bearer(token))
    await mongo.drop_database(database)
    await mongo.close()


def write_file(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def image_lines(count: int, *, export: bool) -> list[bytes]:
    lines: list[bytes] = []
    for image in generate_images(count, seed=3, profile="small"):
        record = {"result": {"image": image}} if export else image
        lines.append(json.dumps(record).encode())
    return lines


async def count(api: Any) -> int:
    return int((await (await api.get("/v1/imagescount")).json())["count"])


async def test_import_valid_file(
    nx_store: LocalStore, database: str, api: Any, tmp_path: Path
) -> None:
    path = write_file(tmp_path / "images.ndjson", image_lines(30, export=False))
    result = cli(nx_store, database, "import", str(path))
    assert result.returncode == 0, result.stderr.decode()
    assert b"30 inserted, 0 updated, 0 skipped" in result.stdout
    assert await count(api) == 30
    again = cli(nx_store, database, "import", str(path))
    assert b"0 inserted, 30 updated" in again.stdout


async def test_import_invalid_lines_write_nothing(
    nx_store: LocalStore, database: str, api: Any, tmp_path: Path
) -> None:
    lines = image_lines(5, export=True)
    lines.insert(2, b"{not json")
    lines.insert(4, b'{"id": "not-a-digest"}')
    lines.append(b'{"error": {"code": 4, "message": "deadline exceeded", "details": []}}')
    path = write_file(tmp_path / "mixed.ndjson", lines)
    result = cli(nx_store, database, "import", str(path))
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "line 3: not JSON" in stderr
    assert "line 5:" in stderr
    assert "id" in stderr.split("line 5:")[1].splitlines()[0]
    assert "line 8: export error line" in stderr
    assert await count(api) == 0
    skipped = cli(nx_store, database, "import", "--skip-invalid", str(path))
    assert skipped.returncode == 0
    assert b"5 inserted, 0 updated, 3 skipped" in skipped.stdout
    assert await count(api) == 5


async def test_import_gzip_and_stdin(
    nx_store: LocalStore, database: str, api: Any, tmp_path: Path
) -> None:
    data = b"\n".join(image_lines(4, export=True))
    path = tmp_path / "images.ndjson.gz"
    path.write_bytes(gzip.compress(data))
    assert cli(nx_store, database, "import", str(path)).returncode == 0
    assert cli(nx_store, database, "import", "-", stdin=data).returncode == 0
    assert await count(api) == 4


async def test_import_gzip_on_stdin_and_broken_inputs(
    nx_store: LocalStore, database: str, api: Any, tmp_path: Path
) -> None:
    data = gzip.compress(b"\n".join(image_lines(3, export=True)))
    result = cli(nx_store, database, "import", "-", stdin=data)
    assert result.returncode == 0, result.stderr.decode()
    truncated = tmp_path / "cut.ndjson.gz"
    truncated.write_bytes(data[: len(data) // 2])
    broken = cli(nx_store, database, "import", str(truncated))
    assert broken.returncode == 2
    assert b"cannot read" in broken.stderr
    assert b"Traceback" not in broken.stderr
    assert await count(api) == 3


def test_import_into_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    path = write_file(tmp_path / "images.ndjson", image_lines(2, export=False))
    env = {**os.environ, "MONGODB_URI": "mongodb://127.0.0.1:9/nowhere"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app", "import", str(path)],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert b"database error" in result.stderr
    assert b"Traceback" not in result.stderr


async def test_import_missing_file_is_a_clear_error(nx_store: LocalStore, database: str) -> None:
    result = cli(nx_store, database, "import", "/nonexistent/images.ndjson")
    assert result.returncode == 2
    assert b"cannot read" in result.stderr


async def test_export_then_import_gives_back_the_same_images(
    nx_store: LocalStore, database: str, api: Any, tmp_path: Path
) -> None:
    source = tmp_path / "seed.ndjson"
    with source.open("wb") as handle:
        write_ndjson(generate_images(40, seed=11, profile="small"), handle, export_lines=True)
    assert cli(nx_store, database, "import", str(source)).returncode == 0
    first = await (await api.get("/v1/export/images")).read()
    exported = tmp_path / "export.ndjson"
    exported.write_bytes(first)
    other = f"{database}_copy"
    assert cli(nx_store, other, "import", str(exported)).returncode == 0
    mongo = open_client(nx_store.uri, timeout_ms=5000)
    settings = Settings(mongodb_uri=nx_store.uri, database=other)
    try:
        server = TestServer(create_app(settings, db=mongo[other]))
        token = await issue_token(mongo[other], settings)
        async with TestClient(server, headers=bearer(token)) as copy:
            second = await (await copy.get("/v1/export/images")).read()
    finally:
        await mongo.drop_database(other)
        await mongo.close()
    first_lines = [json.loads(line) for line in first.splitlines()]
    assert len(first_lines) == 40
    assert [json.loads(line) for line in second.splitlines()] == first_lines


async def test_seed_command_stores_reproducible_images(
    nx_store: LocalStore, database: str, api: Any, tmp_path: Path
) -> None:
    result = cli(nx_store, database, "seed", "--count", "25", "--seed", "5")
    assert result.returncode == 0, result.stderr.decode()
    assert await count(api) == 25
    out1, out2 = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    for out in (out1, out2):
        args = ("seed", "--count", "3", "--profile", "realistic", "--out", str(out))
        assert cli(nx_store, database, *args).returncode == 0
    assert out1.read_bytes() == out2.read_bytes()
    assert len(out1.read_bytes().splitlines()) == 3
