"""`image-service serve` as a separate process: its memory under the unfinished-headers attack,
TLS from the environment, and a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil

from app.cli.local_store import LocalStore, free_port, stop_process
from app.hardening import MAX_HEADER_FIELD_BYTES, MAX_HEADERS
from tests.support.certificates import certificate_authority, server_certificate

LOOPBACK = "127.0.0.1"
MB = 1 << 20


@contextlib.contextmanager
def serving(store: LocalStore, port: int, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    environment = {
        **os.environ,
        "MONGODB_URI": f"{store.uri}serve_{uuid.uuid4().hex[:10]}",
        "IMAGE_SERVICE_REPROCESS_INTERVAL": "0",
        **env,
    }
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "app", "serve", "--host", LOOPBACK, "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        stop_process(process, timeout_s=15)


def wait_until_up(url: str, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/livez", timeout=2, context=context) as answer:  # noqa: S310
                assert answer.status == 200
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def hold_unfinished_headers(port: int, line: bytes, lines: int) -> asyncio.StreamWriter:
    """A connection sending `lines` header lines and never the blank line ending them."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    writer.write(b"GET /livez HTTP/1.1\r\nHost: t\r\n")
    with contextlib.suppress(ConnectionError):
        for _ in range(lines):
            writer.write(line)
            await writer.drain()
    return writer


async def attack(port: int, process: psutil.Process) -> int:
    """The issue's attack (126 lines of 65 KB) and the largest one within the limits, 40
    connections each; the highest RSS seen while they are open."""
    oversized = b"X-Pad: " + b"a" * 65_000 + b"\r\n"
    within = b"X-Pad: " + b"a" * (MAX_HEADER_FIELD_BYTES - 16) + b"\r\n"
    writers = [await hold_unfinished_headers(port, oversized, 126) for _ in range(40)]
    writers += [await hold_unfinished_headers(port, within, MAX_HEADERS - 2) for _ in range(40)]
    await asyncio.sleep(1.0)
    peak = process.memory_info().rss
    for writer in writers:
        writer.close()
    await asyncio.sleep(1.0)
    return max(peak, process.memory_info().rss)


def test_unfinished_headers_leave_memory_bounded(nx_store: LocalStore) -> None:
    port = free_port()
    with serving(nx_store, port) as server:
        wait_until_up(f"http://{LOOPBACK}:{port}")
        process = psutil.Process(server.pid)
        before = process.memory_info().rss
        peak = asyncio.run(attack(port, process))
        assert server.poll() is None
        wait_until_up(f"http://{LOOPBACK}:{port}")
    assert peak - before < 64 * MB, f"RSS grew by {(peak - before) / MB:.0f} MB"


def test_serve_with_tls_from_the_environment(nx_store: LocalStore, tmp_path: Path) -> None:
    ca = certificate_authority()
    certificate, key = server_certificate(ca).write(tmp_path, "server")
    port = free_port()
    env = {"IMAGE_SERVICE_TLS_CERT": str(certificate), "IMAGE_SERVICE_TLS_KEY": str(key)}
    with serving(nx_store, port, **env) as server:
        wait_until_up(
            f"https://{LOOPBACK}:{port}",
            ssl.create_default_context(cadata=ca.certificate_pem.decode()),
        )
        os.kill(server.pid, signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def test_serve_refuses_a_certificate_without_its_key(tmp_path: Path) -> None:
    certificate, _ = server_certificate(certificate_authority()).write(tmp_path, "server")
    env = {**os.environ, "IMAGE_SERVICE_TLS_CERT": str(certificate)}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert b"IMAGE_SERVICE_TLS_KEY" in done.stderr
