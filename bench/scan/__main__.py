"""Scan benchmark: ScanImage of a seeded, realistic image from a local registry.

Builds one image deterministically (five layers, ~120 MB compressed: a Debian base with a dpkg
database of ~400 packages, a layer of Python distributions, a node_modules tree, a zstd layer
and a whiteout layer), pushes it to Debian's docker-registry on loopback, imports an OSV feed
of a few thousand records into nx-27017 with `image-service vulndb import`, and serves the real
`image-service serve` as a subprocess. Then, in alternating rounds:

- cold: `POST /v1/images/scan` with `force: true` (every layer downloaded and analysed);
- warm: the same without force (registry metadata cache and stored scan);
- relabelled: the same layers under a new config label, i.e. a new manifest digest (layer cache);
- baseline *download*: an aiohttp client that downloads every blob and sha256s it;
- baseline *inflate + tar*: the same, plus gzip/zstd inflation and a `tarfile` stream-mode walk
  of every entry without reading contents, in a thread as the scanner does.

The server's RSS is polled every 20 ms during each cold scan. Then, on a fresh server per way of
analysing layers (worker processes, the default; threads, `IMAGE_SERVICE_SCAN_WORKERS=0`), four
distinct images of the same recipe (seeds seed..seed+3) are cold-scanned one by one and all at
once, `--concurrent-rounds` times (0 skips it).

    .venv/bin/python -m bench.scan --rounds 5 [--update-results] [--profile]

from the repository root. It prints a markdown table; `--update-results` writes it as the
`## Scanning` section of bench/RESULTS.md (the rest of the file is kept); `--profile` adds cold
scans on a second server under cProfile (every thread) and prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bench.common import BENCH, WORK
from bench.scan.profiling import serve_profiled
from bench.scan.report import render, update_results
from bench.scan.rounds import Config
from bench.scan.run import run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--update-results", action="store_true", help="write the section into --results"
    )
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--profile", action="store_true", help="also profile cold scans on a second server"
    )
    parser.add_argument("--profile-scans", type=int, default=3)
    parser.add_argument(
        "--concurrent-rounds", type=int, default=3, help="rounds of concurrent cold scans"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    parser.add_argument("--serve-profiled", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_profiled is not None:
        return serve_profiled(args.serve_profiled)
    cfg = Config(
        rounds=args.rounds,
        seed=args.seed,
        update_results=args.update_results,
        results=args.results,
        profile=args.profile,
        profile_scans=args.profile_scans,
        keep=args.keep,
        concurrent_rounds=args.concurrent_rounds,
    )
    results = asyncio.run(run(cfg))
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "scan_results.json").write_text(json.dumps(results, indent=1, default=str))
    section = render(results)
    print(section)
    if cfg.update_results:
        update_results(cfg.results, section)
        print(f"updated {cfg.results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
