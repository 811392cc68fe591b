"""The API benchmarks' settings: goals, and the command-line flags of `bench.run_all`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH

GET_RATIO_GOAL = 0.7
# Small images on the snapshot double: nothing but our own per-request cost (issue: ≥ 0.8×)
GET_RATIO_GOALS = {("snapshot", "small"): 0.8}


def get_ratio_goal(variant: str, profile: str) -> float:
    """The GET goal (ours/bare req/s) of one store variant and image profile."""
    return GET_RATIO_GOALS.get((variant, profile), GET_RATIO_GOAL)


EXPORT_RATIO_GOAL = 0.8
RSS_GROWTH_GOAL_MB = 64.0
AUTH_RATIO_GOAL = 0.9
# the in-process double shows our fixed per-request cost most; nx is the real store
AUTH_VARIANTS = ("snapshot", "nx")


@dataclass
class Config:
    get_counts: dict[str, int]
    export_counts: dict[str, int]
    rss_counts: list[int]
    rss_profile: str
    rss_batch_sizes: list[int]
    seed: int
    rounds: int
    duration: float
    concurrency: int
    export_rounds: int
    variants: list[str]
    skip: set[str]
    raw_full: bool
    profile: str
    profile_seconds: float
    seed_workers: int
    seed_only: bool
    render_only: bool
    only: str | None = None


def parse_args(argv: list[str] | None, description: str | None) -> tuple[Config, Path, bool]:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--get-small", type=int, default=2000, help="small images for GET")
    parser.add_argument("--get-realistic", type=int, default=300, help="realistic images for GET")
    parser.add_argument("--export-small", type=int, default=5000)
    parser.add_argument("--export-realistic", type=int, default=500)
    parser.add_argument("--rss-counts", default="10000,100000", help="comma-separated counts")
    parser.add_argument(
        "--rss-batch-sizes",
        default="256,64,16",
        help="export batch sizes for the realistic RSS sweep ('' to skip)",
    )
    parser.add_argument("--rss-profile", choices=["small", "realistic"], default="small")
    parser.add_argument("--seed", type=int, default=1, help="generator seed of every dataset")
    parser.add_argument("--rounds", type=int, default=3, help="GET rounds per side")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per GET round")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--export-rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        default="nx,mongomock,snapshot",
        help="GET store variants: nx (over the wire), mongomock, snapshot (in-process doubles)",
    )
    parser.add_argument("--skip", default="", help="comma-separated: get, auth, export, rss, micro")
    parser.add_argument(
        "--only",
        choices=["auth"],
        help="run only this part and update only its section of RESULTS.md (auth: the "
        "authentication cost, on the GET datasets)",
    )
    parser.add_argument(
        "--no-raw-full", action="store_true", help="skip the whole-document raw export arm"
    )
    parser.add_argument(
        "--profile",
        choices=["auto", "always", "never"],
        default="auto",
        help="cProfile our server: snapshot GET and any missed goal (auto), everywhere, nowhere",
    )
    parser.add_argument("--profile-seconds", type=float, default=6.0)
    parser.add_argument("--seed-workers", type=int, default=2, help="parallel seeders (≥20k)")
    parser.add_argument(
        "--seed-only", action="store_true", help="seed the datasets, run nothing, keep RESULTS.md"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite RESULTS.md from the last run's bench/.work/results.json, run nothing",
    )
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and short rounds (a smoke test)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.get_small, args.get_realistic = 200, 20
        args.export_small, args.export_realistic = 300, 20
        args.rss_counts, args.rounds, args.duration = "1000", 1, 2.0
        args.rss_batch_sizes = "256,16"
        args.export_rounds, args.profile_seconds = 1, 2.0
    cfg = Config(
        get_counts={"small": args.get_small, "realistic": args.get_realistic},
        export_counts={"small": args.export_small, "realistic": args.export_realistic},
        rss_counts=[int(x) for x in args.rss_counts.split(",") if x.strip()],
        rss_profile=args.rss_profile,
        rss_batch_sizes=[int(x) for x in args.rss_batch_sizes.split(",") if x.strip()],
        seed=args.seed,
        rounds=args.rounds,
        duration=args.duration,
        concurrency=args.concurrency,
        export_rounds=args.export_rounds,
        variants=[v.strip() for v in args.variants.split(",") if v.strip()],
        skip={s.strip() for s in args.skip.split(",") if s.strip()},
        raw_full=not args.no_raw_full,
        profile=args.profile,
        profile_seconds=args.profile_seconds,
        seed_workers=args.seed_workers,
        seed_only=args.seed_only,
        render_only=args.render_only,
        only=args.only,
    )
    return cfg, args.results, args.quick
