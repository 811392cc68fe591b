"""Shared helpers of the benchmarks: paths, child processes stopped by PID, stats, machine facts."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
PYTHON = sys.executable
IMAGE_SERVICE = str(Path(PYTHON).with_name("image-service"))
LOOPBACK = "127.0.0.1"
IDENTITY = {"Accept-Encoding": "identity"}
# What our repository leaves out of every image it reads (storage/images.py).
INTERNAL_PROJECTION: dict[str, Any] = {"_search": 0, "_rev": 0}
EXPORT_SORT = [("lastUpdated", 1), ("_id", 1)]
KEY_PACKAGES = (
    "aiohttp",
    "pymongo",
    "orjson",
    "nx-27017",
    "marshmallow",
    "prometheus-client",
    "mongomock",
    "mongomock-motor",
    "psutil",
)


def add_repo_to_path() -> None:
    """Make `tests.support` importable (the editable install only exposes app/schemas/storage)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


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
        """SIGTERM by PID, wait, then SIGKILL by PID if it did not end."""
        if self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout_s)


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
        raise RuntimeError(f"{command[1]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError(f"{command[1]} printed nothing:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on sorted values; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, OS, Python and the versions of the packages that matter here."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / (1024 * 1024):.1f} GiB"
                break
    except OSError:
        pass
    versions = []
    for name in KEY_PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(versions),
    }
