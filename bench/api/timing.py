"""Measuring one run: the CPU each process and the rest of the machine used meanwhile, and
progress lines with the elapsed time."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from bench.measuring import cpu_seconds


@dataclass
class Log:
    """Progress on stderr, with the elapsed time."""

    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed / 60:5.1f} min] {message}", file=sys.stderr, flush=True)


log = Log()


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process)."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0))


def _own_cpu_s() -> float:
    """CPU seconds of this process and of its children that ended (load generators, readers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _wait_quiet(limit_s: float = 10.0, threshold_cores: float = 0.15) -> float:
    """Between rounds (our servers idle), wait up to `limit_s` for other load to die down.

    Returns the seconds waited. Other work on the machine competes for the same cores.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        busy = _busy_cpu_s()
        time.sleep(0.5)
        if (_busy_cpu_s() - busy) / 0.5 < threshold_cores:
            break
    return time.perf_counter() - started


def measured(pids: dict[str, int], run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement, adding the CPU seconds each process used meanwhile.

    `other_cpu_s` is what the rest of the machine used: processes that are not part of the
    benchmark (anything else running on the box competes for the same cores).
    """
    waited = _wait_quiet()
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    busy, own = _busy_cpu_s(), _own_cpu_s()
    wall = time.perf_counter()
    result = run()
    result["wall_s"] = time.perf_counter() - wall
    ours = _own_cpu_s() - own
    for name, pid in pids.items():
        result[f"{name}_cpu_s"] = cpu_seconds(pid) - before[name]
        ours += result[f"{name}_cpu_s"]
    result["other_cpu_s"] = max(0.0, _busy_cpu_s() - busy - ours)
    result["waited_for_quiet_s"] = waited
    return result
