"""The prose of the `## Scanning` section: findings and the profile, and the number formats."""

from __future__ import annotations

from typing import Any

from bench.common import median
from bench.scan import MiB


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def fmt_rounds(values: list[float]) -> str:
    return " / ".join(fmt_s(v) for v in values)


def cpu_share(side: dict[str, Any], process: str) -> float:
    """Median over the rounds of the process's CPU seconds per wall second."""
    cpu, seconds = side["cpu"], side["seconds"]
    return median([c[process] / s for c, s in zip(cpu, seconds, strict=True) if s > 0])


def findings(
    results: dict[str, Any],
    med: dict[str, float],
    reads: list[float],
    rest: list[float],
    base_layers: list[float],
    growth: list[float],
    largest: dict[str, Any],
    largest_inflated: dict[str, Any],
) -> list[str]:
    sides = results["sides"]
    stored = results["stored"]
    relabel_store = cpu_share(sides["relabel"], "store")
    warm_store = cpu_share(sides["warm"], "store")
    return [
        "",
        "### Findings",
        "",
        f"- **Layers.** Reading the layers takes {median(reads) / median(base_layers):.2f}× "
        "the download + inflate + tar walk baseline: what the scanner does on top of "
        "inflating and walking every entry (limits, the hand-off to a worker process, findings, "
        "parsing the package files) is small. Inflating is the floor: the bare download is "
        f"{med['cold'] / med['download']:.1f}× faster than the cold scan and "
        f"{med['inflate'] / med['download']:.1f}× faster than the baseline that inflates "
        "(zlib alone is the largest item of the profile below). The server reads up to 3 "
        "layers of a scan at once, each in a worker process (the baseline one after another, "
        "in one thread); what that gains across scans is in the concurrent scans' table.",
        f"- **The rest of a cold scan** ({fmt_s(median(rest))}: resolve, match, store, answer) "
        f"is about what a scan of a new digest whose layers are all cached takes "
        f"({fmt_s(med['relabel'])}), and that is mostly the store: nx-27017 used "
        f"{relabel_store:.2f} of a core during it, our server a fraction. The stored image is "
        f"{stored['bson_bytes'] / MiB:.2f} MiB of BSON ({stored['public_bson_bytes'] / MiB:.2f} "
        "MiB without the search copies and the scanner's record); one `find_one` of it with "
        f"our projection costs nx-27017 {fmt_s(stored['find_one_s'])} (it decodes whole documents "
        "in Python), and a scan touches it several times (the upsert reads the current "
        "document and writes it; the answer reads it back). The warm scan "
        f"({fmt_s(med['warm'])}; store {warm_store:.2f} of a core) is mostly that read-back.",
        f"- **Memory.** A fresh server grew by {growth[0]:.1f} MiB during its first cold scan, "
        f"against a largest layer of {largest['compressed'] / MiB:.1f} MiB compressed and "
        f"{largest_inflated['inflated'] / MiB:.1f} MiB inflated: layers are streamed, not held; "
        "later scans reuse the grown heap.",
    ]


def render_profile(profile: dict[str, Any]) -> list[str]:
    scans = profile["scans"]
    total = profile["total_own_s"]
    lines = [
        "",
        "### Where a cold scan's time goes (cProfile)",
        "",
        f"A second server (same store and registry, `IMAGE_SERVICE_SCAN_WORKERS=0` so that the "
        "layers are read in its own threads) under cProfile in every thread (the event "
        f"loop and each layer's reading thread), profiling only {scans} cold scans of the image "
        f"({fmt_rounds(profile['seconds'])} under the profiler). Blocking waits (epoll, queue "
        f"gets, lock acquires: {fmt_s(profile['idle_s'] / scans)} per scan over all threads) are "
        f"left out; the rest, {fmt_s(total / scans)} per scan, by area (cProfile inflates "
        "Python-level calls; C calls such as zlib are measured about right):",
        "",
        "| area | own time per scan | share |",
        "|---|---:|---:|",
    ]
    for area, own in profile["areas"]:
        if own / total >= 0.01:
            lines.append(f"| {area} | {fmt_s(own / scans)} | {own / total:.0%} |")
    lines += [
        "",
        "| function (own time) | calls per scan | own per scan | cumulative per scan |",
        "|---|---:|---:|---:|",
    ]
    for row in profile["top"]:
        lines.append(
            f"| `{row['function']}` | {row['calls'] / scans:,.0f} | {fmt_s(row['own_s'] / scans)} "
            f"| {fmt_s(row['cumulative_s'] / scans)} |"
        )
    lines += [
        "",
        "| our function (cumulative; coroutines count only while running) | calls per scan | "
        "own per scan | cumulative per scan |",
        "|---|---:|---:|---:|",
    ]
    for row in profile["ours"]:
        lines.append(
            f"| `{row['function']}` | {row['calls'] / scans:,.0f} | {fmt_s(row['own_s'] / scans)} "
            f"| {fmt_s(row['cumulative_s'] / scans)} |"
        )
    return lines
