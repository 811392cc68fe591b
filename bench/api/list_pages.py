"""ListImages pages by collection size: p50/p99 of a 20-row page at each size on nx-27017, and a
deep keyset page against the offset page at the same depth; its own section of bench/RESULTS.md.

    .venv/bin/python -m bench.api.list_pages [--sizes 1000,10000,100000] [--repeat 60]

Per size, `image-service serve` on a database of that many small images (seeded through the
service, reused by later runs; a database an earlier version seeded is rebuilt by the server at
start-up, which /readyz waits for); all servers up at once. One client per server on one
keep-alive connection, with an Admin token; each case's request goes to every size in turn,
`--repeat` rounds after a warm-up, so that the sizes meet the same background load.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.api.datasets import Dataset, Store, ensure_dataset, measure_on_bench_store, nx_token
from bench.api.timing import log
from bench.children import child, free_port, wait_http_ok
from bench.common import (
    IMAGE_SERVICE,
    LOOPBACK,
    WORK,
    add_section_arguments,
    median,
    percentile,
    replace_section,
)
from bench.tokens import read_token

SECTION = "## ListImages pages by collection size"
RESULTS = WORK / "list_pages.json"
LIMIT = 20
# Case → query parameters (besides the 20-row limit). The first four are the issue's; the last
# two sort on keys that have no index of their own, to show what a store does without one.
CASES: dict[str, dict[str, str]] = {
    "default sort": {},
    "Image sort": {"pagination.sortOption.field": "Image"},
    "prefix query": {"query": "Image:docker.io/library/"},
    "component query": {"query": "Component:openssl"},
    "CVSS descending": {
        "pagination.sortOption.field": "CVSS",
        "pagination.sortOption.reversed": "true",
    },
    "unindexed: Component Version": {"pagination.sortOption.field": "Component Version"},
}
GOAL_RATIO = 2.0
GOAL_P50_MS = 100.0
WARMUP = 5


class Client:
    """Sequential GETs on one keep-alive connection, with the token."""

    def __init__(self, port: int, token: str) -> None:
        self._conn = http.client.HTTPConnection(LOOPBACK, port, timeout=300)
        self._headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}

    def get(self, path: str) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        self._conn.request("GET", path, headers=self._headers)
        response = self._conn.getresponse()
        body = response.read()
        took = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return took, json.loads(body)

    def close(self) -> None:
        self._conn.close()


def _path(params: dict[str, str]) -> str:
    return "/v1/images?" + urlencode({"pagination.limit": str(LIMIT), **params})


def timed(clients: dict[int, Client], paths: dict[int, str], repeat: int) -> dict[int, Any]:
    """Each size's request in turn, `repeat` rounds after a warm-up: every size meets the same
    background load, so the sizes compare even on a machine that is not quiet."""
    for _ in range(WARMUP):
        for count, client in clients.items():
            client.get(paths[count])
    times: dict[int, list[float]] = {count: [] for count in clients}
    for _ in range(repeat):
        for count, client in clients.items():
            times[count].append(client.get(paths[count])[0] * 1000)
    return {
        count: {"p50": median(t), "p99": percentile(t, 99), "n": len(t)}
        for count, t in times.items()
    }


def measure(clients: dict[int, Client], repeat: int) -> dict[int, Any]:
    out: dict[int, Any] = {count: {"count": count, "cases": {}} for count in clients}
    for name, params in CASES.items():
        stats = timed(clients, dict.fromkeys(clients, _path(params)), repeat)
        for count, result in stats.items():
            out[count]["cases"][name] = result
        log(f"  {name}: " + ", ".join(f"{c:,}: p50 {r['p50']:.1f} ms" for c, r in stats.items()))
    # A page near the end of the default order: by offset, and by the cursor of the row
    # before it (taken from a one-row page at that offset).
    depths = {count: max(1, count - 2 * LIMIT) for count in clients}
    cursors = {}
    for count, client in clients.items():
        params = {"pagination.limit": "1", "pagination.offset": str(depths[count] - 1)}
        cursors[count] = client.get(_path(params))[1]["nextCursor"]
    by_offset = {c: _path({"pagination.offset": str(d)}) for c, d in depths.items()}
    by_cursor = {c: _path({"pagination.cursor": cursor}) for c, cursor in cursors.items()}
    offset, cursor = timed(clients, by_offset, repeat), timed(clients, by_cursor, repeat)
    for count in clients:
        out[count]["deep"] = {
            "depth": depths[count],
            "offset": offset[count],
            "cursor": cursor[count],
        }
        log(
            f"  {count:,}, page at {depths[count]:,}: offset p50 {offset[count]['p50']:.1f} ms, "
            f"cursor p50 {cursor[count]['p50']:.1f} ms"
        )
    return out


def run(store: Store, sizes: list[int], seed: int, repeat: int) -> list[dict[str, Any]]:
    """One server per size, all up at once; the cases measured across them in turn."""
    datasets = {count: Dataset("small", count, seed) for count in sizes}
    seeded = {count: ensure_dataset(store, ds, workers=2) for count, ds in datasets.items()}
    with contextlib.ExitStack() as stack:
        clients: dict[int, Client] = {}
        ready_s: dict[int, float] = {}
        for count, ds in datasets.items():
            port = free_port()
            command = [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port)]
            env = {"MONGODB_URI": store.uri + ds.db}
            server = stack.enter_context(child(f"list-pages-{count}", command, env=env))
            started = time.perf_counter()
            # ready: indexes made, images of an older layout rebuilt
            wait_http_ok(server, f"http://{LOOPBACK}:{port}/readyz", timeout_s=3600)
            ready_s[count] = time.perf_counter() - started
            clients[count] = Client(port, read_token(nx_token(store, ds)))
            stack.callback(clients[count].close)
        results = measure(clients, repeat)
    return [
        {**results[count], "dataset": seeded[count], "ready_s": ready_s[count]} for count in sizes
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated counts")
    parser.add_argument("--repeat", type=int, default=60, help="timed requests per case")
    parser.add_argument("--seed", type=int, default=1, help="the datasets' generator seed")
    add_section_arguments(parser)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return measure_on_bench_store(
        args,
        RESULTS,
        {"repeat": args.repeat},
        lambda store: {"sizes": run(store, sizes, args.seed, args.repeat)},
        write_section,
    )


def write_section(path: Path, out: dict[str, Any]) -> None:
    """RESULTS.md with this section replaced, or inserted before the load section or Scanning,
    or appended."""
    replace_section(path, SECTION, render(out), before=("## Load: many clients", "## Scanning"))
    log(f"updated {SECTION!r} in {path}")


def render(out: dict[str, Any]) -> str:
    sizes = out["sizes"]
    counts = [s["count"] for s in sizes]
    head = "| case | " + " | ".join(f"{c:,}: p50 / p99 ms" for c in counts) + " |"
    rule = "|---|" + "---:|" * len(counts)
    rows = [head, rule]
    for name in CASES:
        cells = [f"{s['cases'][name]['p50']:.1f} / {s['cases'][name]['p99']:.1f}" for s in sizes]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    for arm in ("offset", "cursor"):
        cells = [f"{s['deep'][arm]['p50']:.1f} / {s['deep'][arm]['p99']:.1f}" for s in sizes]
        label = "page near the end, by offset" if arm == "offset" else "same page, by cursor"
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    m = out["machine"]
    text = [
        SECTION,
        "",
        f"`python -m bench.api.list_pages` on {out['date']}, commit `{out.get('git', '?')}`, "
        f"{m['cores']} cores ({m['cpu']}), load average {_load(out)}. `image-service serve` on "
        "nx-27017, one server and database of small images per size, all up at once; one "
        f"client per server on one keep-alive connection; {out['repeat']} rounds per case after "
        f"{WARMUP} untimed, each round one request to every size in turn (so that the sizes "
        f"meet the same background load), a {LIMIT}-row page each. The page near the end "
        "starts 40 rows before the last image of the default order; its cursor comes from the "
        "one-row page before it.",
        "",
        *rows,
        "",
    ]
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        text.append(
            f"Goal (issue 9): at {last['count']:,} images the p50 within {GOAL_RATIO:g}× of "
            f"{first['count']:,} and under {GOAL_P50_MS:g} ms, for the first four cases:"
        )
        text.append("")
        for name in list(CASES)[:4]:
            a, b = first["cases"][name]["p50"], last["cases"][name]["p50"]
            met = b <= GOAL_RATIO * a and b < GOAL_P50_MS
            text.append(f"- {name}: ×{b / a:.2f}, {b:.1f} ms: {'met' if met else '**not met**'}")
        text.append("")
    ready = ", ".join(f"{s['count']:,}: {s['ready_s']:.1f} s" for s in sizes)
    text.append(f"Server start to ready (indexes, layout rebuild if any): {ready}.")
    return "\n".join(text) + "\n"


def _load(out: dict[str, Any]) -> str:
    before, after = out.get("load_before"), out.get("load_after")
    if not before or not after:
        return "not recorded"
    return f"{before[0]:.1f} at the start, {after[0]:.1f} at the end (1 min)"


if __name__ == "__main__":
    raise SystemExit(main())
