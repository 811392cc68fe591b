"""Child processes of the benchmarks: started from the repository root, stopped by their PID."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from bench.common import LOOPBACK, PYTHON, ROOT, WORK


def free_port() -> int:
    from app.cli.local_store import free_port as pick

    return pick(LOOPBACK)


class Child:
    """A child process with its output in a log file; stop() ends it by its PID."""

    def __init__(
        self, name: str, command: Sequence[str], *, env: dict[str, str] | None = None
    ) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = WORK / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own scripts
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=ROOT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 20.0) -> None:
        from app.cli.local_store import stop_process

        stop_process(self.process, timeout_s)


def wait_http_ok(child: Child, url: str, *, timeout_s: float = 120.0) -> None:
    """Wait until `url` answers 200, failing early when the child exits.

    Raises:
        RuntimeError: the child exited or did not answer in time.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(
                f"{child.name} exited ({child.process.returncode}):\n{child.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - loopback only
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"{child.name} did not answer {url} in {timeout_s:.0f}s:\n{child.log_tail()}"
    )


def run_json(command: Sequence[str], *, timeout_s: float, env: dict[str, str] | None = None) -> Any:
    """Run a helper script to completion and parse the JSON object on its last stdout line.

    Raises:
        RuntimeError: the helper failed or printed no JSON.
    """
    name = command[2] if command[1:2] == ["-m"] else command[1]
    done = subprocess.run(  # noqa: S603 - our own scripts
        list(command),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError(f"{name} printed nothing:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


@contextlib.contextmanager
def child(name: str, command: list[str], *, env: dict[str, str] | None = None) -> Iterator[Child]:
    """A child process that is stopped by its PID however the block ends."""
    proc = Child(name, command, env=env)
    try:
        yield proc
    finally:
        proc.stop()


def module(name: str) -> list[str]:
    """The command that runs a benchmark module (`bench.api.loadgen`) as a child process."""
    return [PYTHON, "-m", name]
