"""A local MongoDB-protocol store (nx-27017) started on loopback for development and tests."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class LocalStoreError(RuntimeError):
    """The local store could not be started."""


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _executable() -> str:
    # nx-27017 is an optional extra (`local`): looked for only when a local store is started.
    beside = Path(sys.executable).with_name("nx-27017")
    found = str(beside) if beside.exists() else shutil.which("nx-27017")
    if not found:
        raise LocalStoreError(
            "nx-27017 is not installed; the local store needs the optional extra: "
            "pip install 'image-service[local]'"
        )
    return found


@dataclass
class LocalStore:
    """A running nx-27017 process; stop() ends it by its PID."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def uri(self) -> str:
        return f"mongodb://{LOOPBACK}:{self.port}/"

    def stop(self, timeout_s: float = 10.0) -> None:
        stop_process(self.process, timeout_s)


def stop_process(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM by PID, wait, then SIGKILL by PID if it did not end."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout_s)


def start_local_store(
    data_dir: Path, *, port: int | None = None, timeout_s: float = 30.0
) -> LocalStore:
    """Start nx-27017 with one SQLite file per database under `data_dir`, on loopback.

    Raises:
        LocalStoreError: the process exited or did not accept connections in time.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = open(data_dir / "nx-27017.log", "ab")  # noqa: SIM115 - the child process keeps it
    command = [
        _executable(),
        "--data-dir", str(data_dir),
        "--host", LOOPBACK,
        "--port", str(port),
        "--log-file", str(data_dir / "nx-27017.log"),
        "--pid-file", str(data_dir / "nx-27017.pid"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    log.close()
    store = LocalStore(process=process, port=port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStoreError(
                f"nx-27017 exited with status {process.returncode}; see {data_dir}/nx-27017.log"
            )
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                logger.info("local store listening on %s:%d (data in %s)", LOOPBACK, port, data_dir)
                return store
        except OSError:
            time.sleep(0.1)
    store.stop()
    raise LocalStoreError(f"nx-27017 did not listen on port {port} within {timeout_s:.0f}s")
