"""What every benchmark shares: paths, fixed request details, medians and percentiles, and the
facts of the machine a run was made on."""

from __future__ import annotations

import argparse
import os
import platform
import sys
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
INTERNAL_PROJECTION: dict[str, Any] = {"_search": 0, "_sort": 0, "_layout": 0, "_rev": 0}
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


def git_commit() -> str:
    """The checked-out commit, abbreviated (read from .git: no git process)."""
    head = (ROOT / ".git" / "HEAD").read_text().strip()
    if head.startswith("ref: "):
        return (ROOT / ".git" / head[5:]).read_text().strip()[:7]
    return head[:7]


def replace_section(path: Path, title: str, section: str, *, before: Sequence[str]) -> None:
    """Write `section` (starting with the heading `title`) into the Markdown file at `path`: in
    place of the section of that title, else before the first of the headings `before` found,
    else at the end."""
    old = path.read_text() if path.exists() else ""
    section = section.rstrip("\n") + "\n"
    start = old.find("\n" + title)
    if start >= 0:
        end = old.find("\n## ", start + 1)
        text = old[: start + 1] + section + (old[end:] if end >= 0 else "")
    else:
        found = [at for heading in before if (at := old.find("\n" + heading)) >= 0]
        if found:
            at = min(found)
            text = old[: at + 1] + section + "\n" + old[at + 1 :]
        else:
            text = old.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def add_section_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a benchmark that keeps its own RESULTS.md section on the bench store."""
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--store-dir", type=Path, default=WORK / "store", help="nx-27017's data (bench.run_all's)"
    )
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the section from the last run"
    )
