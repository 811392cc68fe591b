"""Property-based testing of the running service against its own OpenAPI document (schemathesis).

The real command serves on loopback, on the nx-27017 store, with seeded images and an Admin token;
schemathesis generates requests for every documented operation and checks that none answers 5xx
and that every answer matches the documented status codes, content types and schemas.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.local_store import LocalStore, free_port, stop_process

# Bounded so the whole run stays a few minutes on two cores.
FUZZ_SECONDS = int(os.environ.get("IMAGE_SERVICE_FUZZ_SECONDS", "90"))
# The export stream is newline-delimited JSON served as application/json (as upstream does), so
# a whole body is not one JSON document: its lines are validated one by one in
# tests/api/test_export.py, and every other check still applies to it.
# Scanning and watching reach registries named in the request: the fuzzer must not make the
# service connect anywhere, so they are tested against real local registries in tests/scanner.
CONFIG = """
[checks]
enabled = false
not_a_server_error.enabled = true
status_code_conformance.enabled = true
content_type_conformance.enabled = true
response_schema_conformance.enabled = true

[[operations]]
include-path = "/v1/export/images"
checks.response_schema_conformance.enabled = false
# a negative timeout is a deadline already passed: 504, as upstream answers it
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "504"]

[[operations]]
include-name = "POST /v1/images/scan"
enabled = false

[[operations]]
include-name = "POST /v1/watchedimages"
enabled = false
"""


def _command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited early"
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not become ready")


@pytest.fixture
def served(nx_store: LocalStore, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The service on a free loopback port: (base URL, Admin token)."""
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URI": f"{nx_store.uri}fuzz_{uuid.uuid4().hex[:10]}",
        "IMAGE_SERVICE_PORT": str(port),
        "IMAGE_SERVICE_REPROCESS_INTERVAL": "0",
    }
    seeded = _command(env, "seed", "--count", "40", "--profile", "small")
    assert seeded.returncode == 0, seeded.stderr
    created = _command(env, "token", "create", "--name", "fuzz", "--role", "Admin")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    with open(tmp_path / "server.log", "wb") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "app", "serve"], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process)
        yield base, token
    finally:
        stop_process(process, 10)


def test_no_5xx_and_every_answer_as_documented(served: tuple[str, str], tmp_path: Path) -> None:
    base, token = served
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is a dev dependency"
    result = subprocess.run(  # noqa: S603
        [
            st,
            "--config-file",
            str(config),
            "run",
            f"{base}/api/docs/openapi.json",
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {token}",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-time",
            str(FUZZ_SECONDS),
            "--workers",
            "2",
            "--seed",
            "7",
        ],
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS + 240,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # every documented operation but the two left out above was exercised
    operations = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
    assert operations is not None, result.stdout[-3000:]
    assert int(operations[1]) == int(operations[2]) - 2
