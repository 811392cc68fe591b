"""Summarizes a cProfile dump: own time by area (our code, aiohttp, driver, …) and top functions."""

from __future__ import annotations

import argparse
import pstats
from pathlib import Path
from typing import Any

from bench.common import ROOT

# First match wins: (area, path fragment or built-in name fragment).
_AREAS: tuple[tuple[str, str], ...] = (
    ("app/handlers", "/app/handlers/"),
    ("app/services", "/app/services/"),
    ("app/pipeline+metrics", "/app/pipeline.py"),
    ("app/pipeline+metrics", "/app/metrics.py"),
    ("app/http (json_response)", "/app/http.py"),
    ("app (other)", f"{ROOT}/app/"),
    ("schemas (marshmallow params)", f"{ROOT}/schemas/"),
    ("storage", f"{ROOT}/storage/"),
    ("orjson", "orjson"),
    ("prometheus_client", "prometheus_client"),
    ("marshmallow", "marshmallow"),
    ("aiohttp_apigami", "aiohttp_apigami"),
    ("aiohttp/multidict/yarl", "aiohttp"),
    ("aiohttp/multidict/yarl", "multidict"),
    ("aiohttp/multidict/yarl", "yarl"),
    ("pymongo/bson", "pymongo"),
    ("pymongo/bson", "bson"),
    ("mongomock (in-memory double)", "mongomock"),
    ("mongomock (in-memory double)", "sentinels"),
    ("tests/support (double shim)", f"{ROOT}/tests/"),
    ("asyncio/selectors/socket", "asyncio"),
    ("asyncio/selectors/socket", "selectors"),
    ("asyncio/selectors/socket", "socket"),
    ("asyncio/selectors/socket", "_overlapped"),
    ("copy/deepcopy", "/copy.py"),
    ("copy/deepcopy", "deepcopy"),
)


def _area(filename: str, name: str) -> str:
    where = f"{filename} {name}"
    for area, fragment in _AREAS:
        if fragment in where:
            return area
    if filename == "~":
        return "other built-ins"
    return "other Python (stdlib, uuid, …)"


def _label(filename: str, line: int, name: str) -> str:
    if filename == "~":
        return name
    short = filename.replace(f"{ROOT}/", "").split("site-packages/")[-1]
    return f"{short}:{line} {name}"


def _is_ours(filename: str) -> bool:
    return filename.startswith(f"{ROOT}/") and not any(
        part in filename for part in ("/.venv/", "/tests/", "/bench/")
    )


def digest(path: Path, *, top: int = 8) -> dict[str, Any]:
    """Structured facts of a profile: own time by area, and our functions with most own time."""
    stats = pstats.Stats(str(path))
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values()) or 1e-9
    areas: dict[str, float] = {}
    for (filename, _line, name), row in table.items():
        area = _area(filename, name)
        areas[area] = areas.get(area, 0.0) + row[2]
    ours = sorted(
        ((key, row) for key, row in table.items() if _is_ours(key[0])), key=lambda kv: -kv[1][2]
    )
    handled = max(
        (row[0] for (f, _l, n), row in table.items() if n == "_handle" and "web_app" in f),
        default=0,
    )
    return {
        "total_s": total,
        "requests": handled,
        "areas": dict(sorted(areas.items(), key=lambda kv: -kv[1])),
        "ours_own_s": sum(row[2] for _key, row in ours),
        "ours_top": [
            {"function": _label(*key), "calls": row[1], "own_s": row[2], "cum_s": row[3]}
            for key, row in ours[:top]
        ],
    }


def summarize(path: Path, *, top: int = 12) -> str:
    """Markdown: own time by area, then the functions with the most own and cumulative time."""
    stats = pstats.Stats(str(path))
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values()) or 1e-9
    areas: dict[str, float] = {}
    for (filename, _line, name), row in table.items():
        area = _area(filename, name)
        areas[area] = areas.get(area, 0.0) + row[2]
    lines = ["| area | own time | share |", "|---|---:|---:|"]
    for area, seconds in sorted(areas.items(), key=lambda kv: -kv[1]):
        if seconds / total >= 0.005:
            lines.append(f"| {area} | {seconds:.2f} s | {seconds / total:.0%} |")
    lines += ["", "| function (own time) | calls | own | cumulative |", "|---|---:|---:|---:|"]
    by_own = sorted(table.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, name), row in by_own:
        lines.append(
            f"| `{_label(filename, line, name)}` | {row[1]} | {row[2]:.2f} s | {row[3]:.2f} s |"
        )
    ours = [item for item in table.items() if _is_ours(item[0][0])]
    by_cum = sorted(ours, key=lambda kv: -kv[1][3])[:top]
    lines += [
        "",
        "| our function (cumulative) | calls | own | cumulative |",
        "|---|---:|---:|---:|",
    ]
    for (filename, line, name), row in by_cum:
        lines.append(
            f"| `{_label(filename, line, name)}` | {row[1]} | {row[2]:.2f} s | {row[3]:.2f} s |"
        )
    lines.append("")
    lines.append(f"Total profiled own time: {total:.2f} s (cProfile inflates Python-level calls).")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stats", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    print(summarize(args.stats, top=args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
