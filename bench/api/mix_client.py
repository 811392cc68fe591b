"""Closed-loop mixed load on our server: N clients, each on its own keep-alive connection and
with a bearer token, for a fixed time, each request drawn from a weighted mix of operations
(GET by id, ListImages page, count, small export). Reports statuses and latencies per status and
operation, /readyz sampled meanwhile, and how long the service takes to answer normally again
once the load stops.

A plan file (JSON) gives the weighted operations: `{"ops": {"get": {"weight": 40, "urls": […]},
…}, "probe": ["/v1/images/…", "/v1/imagescount?…"]}`. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import median, percentile
from bench.tokens import headers as request_headers

# An export whose stream ended with an error line after its 200 (a deadline, a store error).
STREAM_ERROR = "200+error"
# No answer: the connection failed or the request timed out on the client's side.
NO_ANSWER = "no answer"
REQUEST_TIMEOUT_S = 60.0
# After the load: probes every PROBE_GAP_S; healthy = every probe URL answered 200 within
# max(HEALTHY_FACTOR × its idle latency, idle + HEALTHY_SLACK_S), HEALTHY_RUNS rounds in a row.
PROBE_GAP_S = 0.1
HEALTHY_FACTOR = 3.0
HEALTHY_SLACK_S = 0.05
HEALTHY_RUNS = 3
RECOVERY_LIMIT_S = 120.0
READYZ_GAP_S = 0.5


@dataclass
class Tally:
    stop_at: float
    # (operation, status) -> latencies in seconds
    latencies: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    last_done: float = 0.0


async def _one(session: aiohttp.ClientSession, url: str) -> tuple[str, float | None]:
    """The status (as text) and the Retry-After of one request, its body read to the end."""
    try:
        async with session.get(url) as response:
            body = await response.read()
            retry = response.headers.get("Retry-After")
            status = str(response.status)
    except (aiohttp.ClientError, TimeoutError):
        return NO_ANSWER, None
    if status == "200" and body.rstrip(b"\n").rsplit(b"\n", 1)[-1].startswith(b'{"error"'):
        status = STREAM_ERROR
    return status, float(retry) if retry else None


async def _client(
    base: str,
    headers: dict[str, str],
    ops: list[tuple[str, list[str]]],
    weights: list[int],
    rng: random.Random,
    tally: Tally,
    honor_retry_after: bool,
) -> None:
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(
        base, connector=connector, timeout=timeout, headers=headers, auto_decompress=False
    ) as session:
        clock = time.perf_counter
        while (started := clock()) < tally.stop_at:
            (op, urls), *_ = rng.choices(ops, weights)
            status, retry_after = await _one(session, urls[rng.randrange(len(urls))])
            done = clock()
            tally.latencies[op, status].append(done - started)
            tally.last_done = max(tally.last_done, done)
            if status == "429" and honor_retry_after:
                await asyncio.sleep(min(retry_after or 1.0, max(0.0, tally.stop_at - clock())))


async def _probe_round(session: aiohttp.ClientSession, urls: list[str]) -> list[tuple[str, float]]:
    answers = []
    for url in urls:
        started = time.perf_counter()
        status, _ = await _one(session, url)
        answers.append((status, time.perf_counter() - started))
    return answers


async def _idle_latencies(session: aiohttp.ClientSession, urls: list[str]) -> list[float]:
    """Each probe URL's median latency on the idle server."""
    rounds = [await _probe_round(session, urls) for _ in range(15)]
    for round_ in rounds:
        if any(status != "200" for status, _ in round_):
            raise RuntimeError(f"the idle server did not answer the probes with 200: {round_}")
    return [median([round_[i][1] for round_ in rounds]) for i in range(len(urls))]


async def _recovery(
    session: aiohttp.ClientSession, urls: list[str], idle: list[float], stop_at: float
) -> dict[str, Any]:
    """Seconds from the end of the load until the probes are healthy HEALTHY_RUNS times in a
    row (the first of those rounds), and what the probes saw until then."""
    limits = [max(HEALTHY_FACTOR * s, s + HEALTHY_SLACK_S) for s in idle]
    await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
    healthy_since: float | None = None
    streak = rounds = 0
    statuses: Counter[str] = Counter()
    worst = 0.0
    while time.perf_counter() - stop_at < RECOVERY_LIMIT_S:
        started = time.perf_counter()
        answers = await _probe_round(session, urls)
        rounds += 1
        ok = all(s == "200" and t <= lim for (s, t), lim in zip(answers, limits, strict=True))
        if ok:
            healthy_since = healthy_since if streak else started
            streak += 1
            if streak == HEALTHY_RUNS:
                break
        else:
            streak = 0
            statuses.update(s for s, _ in answers)
            worst = max(worst, *(t for _, t in answers))
        await asyncio.sleep(PROBE_GAP_S)
    recovered = streak == HEALTHY_RUNS and healthy_since is not None
    return {
        "recovery_s": max(0.0, healthy_since - stop_at) if recovered and healthy_since else None,
        "probe_rounds": rounds,
        "unhealthy_statuses": dict(statuses),
        "worst_unhealthy_s": worst,
        "healthy_limits_s": limits,
    }


async def _readyz(session: aiohttp.ClientSession, until: float) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    took: list[float] = []
    while time.perf_counter() < until:
        started = time.perf_counter()
        status, _ = await _one(session, "/readyz")
        took.append(time.perf_counter() - started)
        statuses[status] += 1
        await asyncio.sleep(READYZ_GAP_S)
    return {"statuses": dict(statuses), "max_s": max(took, default=0.0), "samples": len(took)}


def _summary(tally: Tally, duration: float) -> dict[str, Any]:
    by_status: dict[str, list[float]] = defaultdict(list)
    by_op: dict[str, Counter[str]] = defaultdict(Counter)
    ok_by_op: dict[str, list[float]] = defaultdict(list)
    for (op, status), values in tally.latencies.items():
        by_status[status] += values
        by_op[op][status] += len(values)
        if status == "200":
            ok_by_op[op] += values

    def stats(values: list[float]) -> dict[str, float]:
        return {
            "n": len(values),
            "p50_ms": percentile(values, 50) * 1000,
            "p90_ms": percentile(values, 90) * 1000,
            "p99_ms": percentile(values, 99) * 1000,
            "max_ms": max(values, default=0.0) * 1000,
        }

    total = sum(len(v) for v in by_status.values())
    return {
        "requests": total,
        "per_s": total / duration,
        "statuses": {s: len(v) for s, v in sorted(by_status.items())},
        "latency_by_status": {s: stats(v) for s, v in sorted(by_status.items())},
        "statuses_by_op": {op: dict(sorted(c.items())) for op, c in sorted(by_op.items())},
        "ok_latency_by_op": {op: stats(v) for op, v in sorted(ok_by_op.items())},
    }


async def run(
    base: str,
    plan: dict[str, Any],
    clients: int,
    duration: float,
    headers: dict[str, str],
    *,
    honor_retry_after: bool,
) -> dict[str, Any]:
    ops = [(name, op["urls"]) for name, op in plan["ops"].items()]
    weights = [op["weight"] for op in plan["ops"].values()]
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(base, timeout=timeout, headers=headers) as probe:
        idle = await _idle_latencies(probe, plan["probe"])
        started = time.perf_counter()
        tally = Tally(stop_at=started + duration)
        readyz = asyncio.create_task(_readyz(probe, tally.stop_at))
        recovery = asyncio.create_task(_recovery(probe, plan["probe"], idle, tally.stop_at))
        await asyncio.gather(
            *(
                _client(base, headers, ops, weights, random.Random(i), tally, honor_retry_after)
                for i in range(clients)
            )
        )
        return {
            **_summary(tally, duration),
            "drain_s": max(0.0, tally.last_done - tally.stop_at),
            "readyz": await readyz,
            "idle_probe_ms": [s * 1000 for s in idle],
            **await recovery,
            "client_cpu_s": time.process_time(),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument(
        "--honor-retry-after",
        action="store_true",
        help="a client refused with 429 waits Retry-After before its next request",
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.base,
            json.loads(args.plan.read_text()),
            args.clients,
            args.duration,
            request_headers(args.token_file),
            honor_retry_after=args.honor_retry_after,
        )
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
