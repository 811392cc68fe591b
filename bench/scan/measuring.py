"""What a scan costs: CPU seconds of the processes and the machine, the server's memory
high-water mark, its scanner counters, and the timed scan request itself."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil


class ProcessWatch:
    """CPU seconds of some processes and of the whole machine between start() and stop().

    The processes named in `with_children` count their child processes too (the server's layer
    workers, alive or reaped since)."""

    def __init__(
        self, pids: dict[str, int], *, with_children: frozenset[str] = frozenset()
    ) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.with_children = with_children
        self._start: dict[str, float] = {}
        self._busy = 0.0

    @staticmethod
    def _machine_busy() -> float:
        times = psutil.cpu_times()
        return times.user + times.nice + times.system + times.irq + times.softirq + times.steal

    def _cpu(self) -> dict[str, float]:
        out = {}
        for name, process in self.processes.items():
            times = process.cpu_times()
            out[name] = times.user + times.system
            if name in self.with_children:
                out[name] += times.children_user + times.children_system
                for child in process.children(recursive=True):
                    try:
                        child_times = child.cpu_times()
                    except psutil.NoSuchProcess:
                        continue  # ended meanwhile: counted once reaped
                    out[name] += child_times.user + child_times.system
        return out

    def start(self) -> None:
        self._start = self._cpu()
        self._busy = self._machine_busy()

    def stop(self) -> dict[str, float]:
        end = self._cpu()
        used = {name: end[name] - self._start[name] for name in end}
        used["other"] = max(0.0, self._machine_busy() - self._busy - sum(used.values()))
        return used


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


async def scanner_metrics(session: aiohttp.ClientSession, base: str) -> dict[str, float]:
    async with session.get(f"{base}/metrics") as response:
        text = await response.text()
    return {
        match.group(1): float(match.group(2))
        for match in re.finditer(r"^image_service_scanner_(\w+)_total (\S+)$", text, re.M)
    }


async def post_scan(
    session: aiohttp.ClientSession, base: str, name: str, *, force: bool, headers: dict[str, str]
) -> tuple[float, dict[str, Any]]:
    """One timed scan request; `headers` carry the bearer token (bench.tokens.headers)."""
    started = time.perf_counter()
    async with session.post(
        f"{base}/v1/images/scan", json={"imageName": name, "force": force}, headers=headers
    ) as response:
        body = await response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"scan of {name} answered {response.status}: {body[:500]!r}")
    return elapsed, json.loads(body)
