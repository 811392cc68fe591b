"""Closed-loop HTTP load: N workers on N keep-alive connections GET random image ids."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from yarl import URL

from bench.common import percentile
from bench.tokens import headers as request_headers


@dataclass
class Tally:
    """What the workers measured; a request counts if it started inside the window."""

    measure_from: float
    stop_at: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    body_bytes: int = 0
    last_done: float = 0.0
    all_requests: int = 0  # warm-up included: the server's CPU time covers those too
    any_done: float = 0.0


async def _worker(
    session: aiohttp.ClientSession,
    urls: list[URL],
    headers: dict[str, str],
    rng: random.Random,
    tally: Tally,
) -> None:
    clock = time.perf_counter
    while (started := clock()) < tally.stop_at:
        url = urls[rng.randrange(len(urls))]
        try:
            async with session.get(url, headers=headers) as response:
                body = await response.read()
                status = response.status
        except aiohttp.ClientError:
            if started >= tally.measure_from:
                tally.errors += 1
            continue
        done = clock()
        tally.all_requests += 1
        tally.any_done = max(tally.any_done, done)
        if started < tally.measure_from:
            continue
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if status != 200:
            tally.errors += 1
            continue
        tally.latencies.append(done - started)
        tally.body_bytes += len(body)
        tally.last_done = max(tally.last_done, done)


async def run(
    base: str,
    ids: list[str],
    concurrency: int,
    duration: float,
    warmup: float,
    headers: dict[str, str],
) -> dict:
    urls = [URL(f"{base}/v1/images/{image_id}", encoded=True) for image_id in ids]
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:
        now = time.perf_counter()
        tally = Tally(measure_from=now + warmup, stop_at=now + warmup + duration)
        cpu_before: float | None = None

        async def mark_cpu() -> None:
            nonlocal cpu_before
            await asyncio.sleep(warmup)
            cpu_before = time.process_time()

        marker = asyncio.create_task(mark_cpu())
        await asyncio.gather(
            *(_worker(session, urls, headers, random.Random(i), tally) for i in range(concurrency))
        )
        await marker
        load_s = max(tally.any_done - now, 1e-9)
    cpu = time.process_time() - (cpu_before or 0.0)
    elapsed = max(tally.last_done - tally.measure_from, 1e-9)
    count = len(tally.latencies)
    return {
        "requests": count,
        "all_requests": tally.all_requests,
        "errors": tally.errors,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "seconds": elapsed,
        "load_s": load_s,
        "rps": count / elapsed,
        "p50_ms": percentile(tally.latencies, 50) * 1000,
        "p99_ms": percentile(tally.latencies, 99) * 1000,
        "mean_body_bytes": tally.body_bytes / count if count else 0,
        "client_cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--ids", type=Path, required=True, help="file with one image id a line")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--token-file", type=Path, help="send this bearer token")
    args = parser.parse_args()
    ids = [line.strip() for line in args.ids.read_text().splitlines() if line.strip()]
    result = asyncio.run(
        run(
            args.base,
            ids,
            args.concurrency,
            args.duration,
            args.warmup,
            request_headers(args.token_file),
        )
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
