"""How many cores this process may use: the default number of layer worker processes."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def available_cores(cgroup_root: Path = CGROUP_ROOT) -> int:
    """The CPUs this process may run on (its affinity), capped by its cgroup's CPU limit (a
    container's `resources.limits.cpu`, rounded up); at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(cgroup_root)
    return max(1, min(cores, limit) if limit is not None else cores)


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> int | None:
    """The CPU quota of the cgroup mounted at `root` in whole cores (cgroup v2 `cpu.max`, else
    v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`); None when there is none or it cannot be read."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        for v1 in (root / "cpu", root / "cpu,cpuacct"):
            try:
                quota = (v1 / "cpu.cfs_quota_us").read_text().strip()
                period = (v1 / "cpu.cfs_period_us").read_text().strip()
                break
            except OSError:
                continue
        else:
            return None
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:  # "max": no limit
        return None
    if quota_us <= 0 or period_us <= 0:  # v1's -1: no limit
        return None
    return max(1, math.ceil(quota_us / period_us))
