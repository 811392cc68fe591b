"""A TCP proxy on loopback in front of a registry that counts the connections it accepts.

A test that expects a scan to be refused before connecting points the scan at the proxy and
checks that the count stayed at zero; a control scan through an allowed proxy shows that the
count moves when a connection does happen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tests.support.registry import LOOPBACK


@dataclass
class CountingProxy:
    target_host: str
    target_port: int
    connections: int = 0
    port: int = 0

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, to put in an image name."""
        return f"{LOOPBACK}:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def counting_proxy(target: str) -> AsyncIterator[CountingProxy]:
    """A proxy to `target` ("host:port") listening on a free loopback port."""
    host, _, port = target.rpartition(":")
    proxy = CountingProxy(host, int(port))
    server = await asyncio.start_server(proxy._serve, LOOPBACK, 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        await server.wait_closed()
