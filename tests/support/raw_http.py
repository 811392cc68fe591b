"""The service as `image-service serve` runs it (app/listener.py), in-process on loopback, and a
raw client for bytes no HTTP library would send."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from app.config import Settings
from app.listener import ServiceRunner
from app.main import create_app

LOOPBACK = "127.0.0.1"


@dataclass
class Served:
    runner: ServiceRunner
    port: int

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


@contextlib.asynccontextmanager
async def served(settings: Settings, db: Any, ssl_context: Any = None) -> AsyncIterator[Served]:
    runner = ServiceRunner(create_app(settings, db=db), settings)
    await runner.setup()
    try:
        site = web.TCPSite(runner, LOOPBACK, 0, ssl_context=ssl_context)
        await site.start()
        yield Served(runner, runner.addresses[0][1])
    finally:
        await runner.cleanup()


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


def parse_answer(data: bytes) -> RawAnswer:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(re.match(r"HTTP/1\.[01] (\d{3})", lines[0]).group(1))  # type: ignore[union-attr]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(status, headers, body)


async def exchange(port: int, data: bytes, *, timeout_s: float = 10.0) -> RawAnswer:
    """Send `data` and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        writer.write(data)
        await writer.drain()
        return parse_answer(await asyncio.wait_for(reader.read(), timeout_s))
    finally:
        writer.close()
