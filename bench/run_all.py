"""Runs every API benchmark (GET req/s, authentication cost, export images/s, export RSS) and
rewrites bench/RESULTS.md.

    .venv/bin/python -m bench.run_all [--quick] [--only auth]

from the repository root; the sections of RESULTS.md other commands write (`python -m bench.scan`,
`python -m bench.api.load_mix`, `python -m bench.api.list_pages`) are kept.
`--only auth` measures the authentication cost alone and rewrites only its section.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.api.auth_cost import auth_micro, auth_section, replace_section, run_auth
from bench.api.config import Config, parse_args
from bench.api.datasets import Dataset, Store, ensure_dataset
from bench.api.export import cursor_memory, export_bench, rss_bench
from bench.api.get_requests import get_bench
from bench.api.list_pages import SECTION as LIST_PAGES_SECTION
from bench.api.load_mix import SECTION as LOAD_SECTION
from bench.api.profiling import micro, profile_export, profile_get
from bench.api.results_md import render
from bench.api.timing import log
from bench.common import BENCH, WORK, machine

AUTH_RESULTS = WORK / "auth_results.json"


# Sections other commands write on their own (`python -m bench.api.load_mix`, `python -m
# bench.api.list_pages`, `python -m bench.scan`): a rewrite keeps them, in this order, at the end.
KEPT_SECTIONS = (LOAD_SECTION, LIST_PAGES_SECTION, "## Scanning")


def write_results(path: Path, text: str) -> None:
    """Rewrite RESULTS.md, keeping the sections other commands write on their own."""
    old = path.read_text() if path.exists() else ""
    for heading in KEPT_SECTIONS:
        start = old.find("\n" + heading)
        if start >= 0:
            end = old.find("\n## ", start + 1)
            text = text.rstrip("\n") + "\n" + old[start : end if end >= 0 else len(old)]
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    cfg, results_path, quick = parse_args(argv, __doc__)
    from app.cli.local_store import start_local_store

    if cfg.render_only and cfg.only == "auth":
        _write_auth_only(results_path, json.loads(AUTH_RESULTS.read_text()))
        return 0
    if cfg.render_only:
        write_results(results_path, render(json.loads((WORK / "results.json").read_text())))
        log(f"wrote {results_path} from {WORK / 'results.json'}")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    out: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(cfg).items()},
        "quick": quick,
        "git": git_state(),
        "datasets": [],
        "get": [],
        "export": [],
        "rss": [],
        "profiles": {},
        "timings": {},
    }
    local = start_local_store(WORK / "store")
    try:
        store = Store(uri=local.uri, pid=local.process.pid)
        log(f"nx-27017 on {store.uri} (pid {store.pid})")
        if cfg.only == "auth":
            _run_auth_only(cfg, store, out)
        else:
            _run(cfg, store, out)
    finally:
        local.stop()
        log("store stopped")
    out["timings"]["total_s"] = time.monotonic() - started
    end_state = git_state()
    out["git_changed_during_run"] = end_state != out["git"]
    if out["git_changed_during_run"]:
        out["git_end"] = end_state
        log("WARNING: the code under test changed during the run")
    for state in (out["git"], out.get("git_end")):
        if state:
            state.pop("diff", None)
    if cfg.seed_only:
        log(f"seeded (total {out['timings']['total_s'] / 60:.1f} min)")
        return 0
    if cfg.only == "auth":
        _write_auth_only(results_path, out)
        return 0
    (WORK / "results.json").write_text(json.dumps(out, indent=1, default=str))
    write_results(results_path, render(out))
    log(f"wrote {results_path} (total {out['timings']['total_s'] / 60:.1f} min)")
    return 0


def _get_sets(cfg: Config) -> list[Dataset]:
    return [Dataset(p, n, cfg.seed) for p, n in cfg.get_counts.items() if n > 0]


def _run_auth_only(cfg: Config, store: Store, out: dict[str, Any]) -> None:
    datasets = _get_sets(cfg)
    for ds in datasets:
        out["datasets"].append({"profile": ds.profile, **ensure_dataset(store, ds, 1)})
    done = _timed(out, "auth_s")
    out["auth"] = run_auth(store, datasets, cfg)
    out["auth_micro"] = auth_micro()
    done()


def _write_auth_only(results_path: Path, out: dict[str, Any]) -> None:
    """Only the authentication section: in RESULTS.md and in the last full run's results.json
    (this run's own record in auth_results.json, for `--only auth --render-only`)."""
    AUTH_RESULTS.write_text(json.dumps(out, indent=1, default=str))
    section = auth_section(out)
    old = results_path.read_text() if results_path.exists() else ""
    results_path.write_text(replace_section(old, section))
    saved = WORK / "results.json"
    if saved.exists():
        last = json.loads(saved.read_text())
        last["auth"], last["auth_micro"] = out["auth"], out.get("auth_micro")
        saved.write_text(json.dumps(last, indent=1, default=str))
    log(f"updated the authentication section of {results_path}")


def git_state() -> dict[str, Any]:
    """The commit under test and any uncommitted change outside bench/."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip()

    dirty = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if line[3:] and not line[3:].startswith("bench/")
    ]
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "subject": git("log", "-1", "--format=%s").strip(),
        "dirty": dirty,
        "diff": git("diff", "HEAD", "--", ".", ":(exclude)bench"),
    }


def _timed(out: dict[str, Any], name: str) -> Callable[[], None]:
    started = time.monotonic()

    def done() -> None:
        out["timings"][name] = time.monotonic() - started

    return done


def _run(cfg: Config, store: Store, out: dict[str, Any]) -> None:
    get_sets = _get_sets(cfg)
    export_sets = [Dataset(p, n, cfg.seed) for p, n in cfg.export_counts.items() if n > 0]
    rss_sets = [Dataset(cfg.rss_profile, n, cfg.seed) for n in cfg.rss_counts]
    wanted: list[Dataset] = []
    if "get" not in cfg.skip or "auth" not in cfg.skip:
        wanted += get_sets
    if "export" not in cfg.skip:
        wanted += export_sets
    if "rss" not in cfg.skip:
        wanted += rss_sets
    done = _timed(out, "seeding_s")
    for ds in dict.fromkeys(wanted):
        workers = cfg.seed_workers if ds.count >= 20_000 else 1
        out["datasets"].append({"profile": ds.profile, **ensure_dataset(store, ds, workers)})
    done()
    if cfg.seed_only:
        return
    missed_get: list[tuple[Dataset, str]] = []
    if "get" not in cfg.skip:
        done = _timed(out, "get_s")
        for variant in cfg.variants:
            for ds in get_sets:
                result = get_bench(store, ds, variant, cfg)
                out["get"].append(result)
                if not result["goal_met"]:
                    missed_get.append((ds, variant))
        done()
    if "auth" not in cfg.skip:
        done = _timed(out, "auth_s")
        out["auth"] = run_auth(store, get_sets, cfg)
        out["auth_micro"] = auth_micro()
        done()
    missed_export: list[Dataset] = []
    if "export" not in cfg.skip:
        done = _timed(out, "export_s")
        for ds in export_sets:
            result = export_bench(store, ds, cfg)
            out["export"].append(result)
            if not result["goal_met"]:
                missed_export.append(ds)
        done()
    if "rss" not in cfg.skip:
        done = _timed(out, "rss_s")
        for ds in rss_sets:
            out["rss"].append(rss_bench(store, ds))
        done()
    if "rss" not in cfg.skip and cfg.rss_batch_sizes and cfg.get_counts.get("realistic"):
        done = _timed(out, "rss_batch_s")
        ds = Dataset("realistic", cfg.get_counts["realistic"], cfg.seed)
        out["rss_batch"] = [rss_bench(store, ds, size) for size in cfg.rss_batch_sizes]
        out["cursor_memory"] = [
            cursor_memory(store, ds, mode, size)
            for size in (max(cfg.rss_batch_sizes), min(cfg.rss_batch_sizes))
            for mode in ("decoded", "raw")
        ]
        done()
    if "micro" not in cfg.skip:
        done = _timed(out, "micro_s")
        log("micro-costs")
        out["micro"] = micro(store, get_sets)
        done()
    if cfg.profile == "never":
        return
    done = _timed(out, "profiling_s")
    if cfg.profile == "always":
        missed_get = (
            [(ds, v) for v in cfg.variants for ds in get_sets] if "get" not in cfg.skip else []
        )
        missed_export = export_sets if "export" not in cfg.skip else []
    elif "get" not in cfg.skip and "snapshot" in cfg.variants:
        # The snapshot variant is where our own cost shows: always explain it.
        for ds in get_sets:
            if (ds, "snapshot") not in missed_get:
                missed_get.append((ds, "snapshot"))
    out["profile_data"] = {}
    for ds, variant in missed_get:
        log(f"profiling GET {variant} {ds.profile}")
        name = f"GET /v1/images/{{id}}, {variant}, {ds.profile}"
        out["profiles"][name], out["profile_data"][name] = profile_get(store, ds, variant, cfg)
    for ds in missed_export:
        log(f"profiling export {ds.profile}")
        name = f"GET /v1/export/images, nx, {ds.profile}"
        out["profiles"][name], out["profile_data"][name] = profile_export(store, ds)
    done()


if __name__ == "__main__":
    os.chdir(BENCH.parent)
    raise SystemExit(main())
