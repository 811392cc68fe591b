"""Reads one whole GET /v1/export/images stream (no gzip) and reports images/s."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

from bench.tokens import headers as request_headers


async def run(
    base: str, sink: BinaryIO | None, limit: int, headers: dict[str, str]
) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=None, sock_read=600)
    lines = total = 0
    tail = b""
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
        cpu = time.process_time()
        started = time.perf_counter()
        async with session.get(f"{base}/v1/export/images", headers=headers) as response:
            status = response.status
            async for chunk in response.content.iter_any():
                lines += chunk.count(b"\n")
                total += len(chunk)
                tail = chunk[-4096:] if len(chunk) >= 4096 else (tail + chunk)[-4096:]
                if sink is not None:
                    sink.write(chunk)
                if limit and lines >= limit:
                    break
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    error = last.startswith(b'{"error"')
    images = lines - 1 if error else lines
    return {
        "status": status,
        "images": images,
        "bytes": total,
        "seconds": seconds,
        "images_per_s": images / seconds if seconds else 0.0,
        "mb_per_s": total / seconds / 1e6 if seconds else 0.0,
        "error_line": last.decode(errors="replace")[:300] if error else None,
        "client_cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--out", type=Path, help="also save the stream to this file")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many lines (warm-up)")
    parser.add_argument("--token-file", type=Path, help="send this bearer token")
    args = parser.parse_args()
    headers = request_headers(args.token_file)
    if args.out is None:
        result = asyncio.run(run(args.base, None, args.limit, headers))
    else:
        with open(args.out, "wb") as sink:
            result = asyncio.run(run(args.base, sink, args.limit, headers))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
