"""The default number of layer workers: CPU affinity capped by a cgroup's CPU limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.cores import available_cores, cgroup_cpu_limit


@pytest.mark.parametrize(
    ("cpu_max", "limit"),
    [("max 100000\n", None), ("200000 100000\n", 2), ("150000 100000\n", 2), ("50000 100000", 1)],
)
def test_cgroup_v2_cpu_max(tmp_path: Path, cpu_max: str, limit: int | None) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert cgroup_cpu_limit(tmp_path) == limit


@pytest.mark.parametrize(("quota", "limit"), [("-1", None), ("300000", 3), ("250000", 3)])
def test_cgroup_v1_quota(tmp_path: Path, quota: str, limit: int | None) -> None:
    v1 = tmp_path / "cpu,cpuacct"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text(quota + "\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path) == limit


def test_no_cgroup_files_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path) is None
    assert available_cores(tmp_path) == len(os.sched_getaffinity(0))


def test_a_container_limit_caps_the_cores(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert available_cores(tmp_path) == 1
    (tmp_path / "cpu.max").write_text(f"{100000 * 512} 100000\n")
    assert available_cores(tmp_path) == len(os.sched_getaffinity(0))
