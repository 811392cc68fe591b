"""The per-request cost of authentication: GET /v1/images/{id} with a token against the same app
with the authentication step taken out by the harness (`our_server.py --no-auth`).

Both arms are `bench/api/our_server.py` on the same store variant and dataset, both clients send
the same `Authorization` header, rounds alternate between them; only the authentication step
differs.
"""

from __future__ import annotations

from typing import Any

from bench.api.config import AUTH_RATIO_GOAL, AUTH_VARIANTS, Config
from bench.api.datasets import Dataset, Store, ids_file
from bench.api.get_requests import compare, get_summary, our_server
from bench.children import free_port, module, run_json
from bench.common import median

SECTION = "## 4. Authentication cost"


def auth_bench(store: Store, ds: Dataset, variant: str, cfg: Config) -> dict[str, Any]:
    """With a token vs authentication bypassed, alternating rounds; ratio of median req/s."""
    tag = f"auth-{variant}-{ds.profile}"
    sides = {
        "token": our_server(ds, store, free_port(), variant, f"{tag}-token"),
        "bypassed": our_server(ds, store, free_port(), variant, f"{tag}-bypassed", "--no-auth"),
    }
    rounds = compare(
        tag,
        sides,
        ids_file(store, ds),
        cfg,
        rounds=cfg.rounds,
        store_pid=store.pid if variant == "nx" else None,
    )
    summary = {side: get_summary(results) for side, results in rounds.items()}
    token, bypassed = summary["token"], summary["bypassed"]
    ratio = token["rps"] / bypassed["rps"] if bypassed["rps"] else 0.0
    # each token round against the bypassed round right after it: same background load
    pairs = zip(rounds["token"], rounds["bypassed"], strict=True)
    paired = median([t["rps"] / b["rps"] for t, b in pairs if b["rps"]])
    cpu_token = token["server_cpu_us_per_req"]
    cpu_ratio = bypassed["server_cpu_us_per_req"] / cpu_token if cpu_token else 0.0
    errors = token["errors"] + bypassed["errors"]
    return {
        "variant": variant,
        "profile": ds.profile,
        "count": ds.count,
        "rounds": rounds,
        "summary": summary,
        "ratio": ratio,
        "paired_ratio": paired,
        "cpu_ratio": cpu_ratio,
        "cpu_us_per_req": cpu_token - bypassed["server_cpu_us_per_req"],
        "errors": errors,
        "goal_met": ratio >= AUTH_RATIO_GOAL and errors == 0,
        "cpu_goal_met": cpu_ratio >= AUTH_RATIO_GOAL and errors == 0,
    }


def auth_micro() -> dict[str, Any]:
    """The authentication step alone, in-process (`bench/api/auth_micro.py`)."""
    return run_json([*module("bench.api.auth_micro")], timeout_s=600)  # type: ignore[no-any-return]


def run_auth(store: Store, datasets: list[Dataset], cfg: Config) -> list[dict[str, Any]]:
    return [
        auth_bench(store, ds, variant, cfg)
        for variant in AUTH_VARIANTS
        if variant in cfg.variants
        for ds in datasets
    ]


def _f(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def auth_section(out: dict[str, Any]) -> str:
    """The RESULTS.md section; empty when the run did not measure it."""
    results = out.get("auth") or []
    if not results:
        return ""
    git = out.get("git") or {}
    cfg = out["config"]
    rows = [
        f"{SECTION} (GET /v1/images/{{id}} with a token vs authentication bypassed)",
        "",
        f"Measured {out['date']} on commit `{git.get('commit', '?')}`"
        + (" with uncommitted changes" if git.get("dirty") else "")
        + f", {cfg['rounds']} rounds × {cfg['duration']:.0f} s per arm, "
        f"{cfg['concurrency']} connections"
        + (" (**`--quick` sizes: not representative**)" if out.get("quick") else "")
        + ". Both arms are our app (`bench/api/our_server.py`) on the same store and dataset and "
        "both clients send the same `Authorization: Bearer` header (an Admin API token the server "
        "made at start-up); the *bypassed* arm is started with `--no-auth`, a harness-only flag "
        "that takes every route's guard out of the request pipeline's policies before the app "
        "starts (the service has no such setting). Rounds alternate between the arms; medians. "
        "Authentication results are cached by the access service (~4 s), so this is the steady "
        "state: header parsing, token hash and cache lookup, expiry and permission checks. "
        f"Goal: with token / bypassed ≥ {AUTH_RATIO_GOAL}. *req/s* is the ratio of median "
        "req/s; *paired* the median of each token round ÷ the bypassed round after it; *CPU* is "
        "bypassed server CPU per request ÷ with token, the req/s ratio if each server had a core "
        "to itself (on 2 shared cores the other load, in the last column, moves req/s more than "
        "authentication does). `python -m bench.run_all --only auth` re-measures this section "
        "alone.",
        "",
        "| store | profile | arm | req/s (median) | rounds | p50 ms | p99 ms | server CPU/req "
        "| other load | token/bypassed: req/s, paired, CPU | met (req/s, CPU) |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---|---|",
    ]
    for a in results:
        for arm in ("token", "bypassed"):
            s = a["summary"][arm]
            per_round = " / ".join(_f(r["rps"]) for r in a["rounds"][arm])
            errors = f" ({s['errors']} errors)" if s["errors"] else ""
            ratios = met = ""
            if arm == "token":
                ratios = (
                    f"**{a['ratio']:.2f}**, {a.get('paired_ratio', 0.0):.2f}, "
                    f"{a.get('cpu_ratio', 0.0):.2f}"
                )
                met = f"{_yes(a['goal_met'])}, {_yes(a.get('cpu_goal_met', False))}"
            rows.append(
                f"| {a['variant']} | {a['profile']} ×{a['count']} | {arm} | {_f(s['rps'])}{errors} "
                f"| {per_round} | {_f(s['p50_ms'], 1)} | {_f(s['p99_ms'], 1)} | "
                f"{_f(s['server_cpu_us_per_req'])} µs | {s['other_cpu_share']:.2f} cores | "
                f"{ratios} | {met} |"
            )
    rows.append("")
    rows.append(
        "Server CPU per request with a token minus bypassed: "
        + ", ".join(f"{a['variant']} {a['profile']} {a['cpu_us_per_req']:+.0f} µs" for a in results)
        + " (round-to-round noise is larger than the difference)."
    )
    micro = out.get("auth_micro")
    if micro:
        rows += [
            "",
            f"The authentication step alone, in-process (`bench/api/auth_micro.py`, "
            f"{micro['calls']:,} guard checks on a GET /v1/images/{{id}} request with a cached "
            f"Admin token): **{micro['middleware_us']:.1f} µs** per check against "
            f"{micro['handler_us']:.1f} µs for an empty call, i.e. {micro['own_us']:.1f} µs of its "
            "own. Where it goes (cProfile, share of the check's time): "
            + ", ".join(
                f"`{row['function']}` {row['share'] * 100:.0f} %" for row in micro["profile_top"]
            )
            + ".",
        ]
    return "\n".join(rows) + "\n"


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def replace_section(old: str, section: str) -> str:
    """RESULTS.md with this section replaced, or inserted before the micro-costs, profiles,
    findings or scanning section (the first there is), or appended."""
    start = old.find("\n" + SECTION)
    if start >= 0:
        end = old.find("\n## ", start + 1)
        return old[: start + 1] + section + (old[end:] if end >= 0 else "")
    for heading in ("## Micro-costs", "## Where our time goes", "## Findings", "## Scanning"):
        at = old.find("\n" + heading)
        if at >= 0:
            return old[: at + 1] + section + "\n" + old[at + 1 :]
    return old.rstrip("\n") + "\n\n" + section
