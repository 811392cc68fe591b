"""The baselines a cold scan is compared with: download every blob (sha256-checked), and the
same plus inflating and walking every layer's tar in a thread, as the scanner does."""

from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import tarfile
import time
from typing import Any

import aiohttp
import zstandard

from tests.support.oci.media_types import ACCEPT_ALL

CHUNK = 64 * 1024  # what the scanner's registry client reads at a time


class _QueueReader:
    """Chunks from a queue as a file object (None ends it) for tarfile or zstandard."""

    def __init__(self, chunks: queue.Queue[bytes | None]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        while not self._ended and (size < 0 or len(self._buffer) < size):
            chunk = self._chunks.get()
            if chunk is None:
                self._ended = True
            else:
                self._buffer += chunk
        if size < 0 or size >= len(self._buffer):
            out = bytes(self._buffer)
            self._buffer.clear()
        else:
            out = bytes(self._buffer[:size])
            del self._buffer[:size]
        return out

    def drain(self) -> None:
        while not self._ended:
            if self._chunks.get() is None:
                self._ended = True


def _walk_tar(reader: _QueueReader, media_type: str) -> tuple[int, int]:
    """Inflate and walk the tar in stream mode, reading no contents; (entries, tar bytes)."""
    fileobj: Any = reader
    mode = "r|"
    if media_type.endswith("zstd"):
        fileobj = zstandard.ZstdDecompressor().stream_reader(
            reader, read_size=CHUNK, read_across_frames=True
        )
    elif media_type.endswith("gzip"):
        mode = "r|gz"
    entries = 0
    with tarfile.open(fileobj=fileobj, mode=mode, bufsize=CHUNK) as archive:  # type: ignore[call-overload]
        while archive.next() is not None:
            archive.members.clear()
            entries += 1
        size = archive.offset
    reader.drain()
    return entries, size


async def baseline_pull(
    session: aiohttp.ClientSession, registry_url: str, repo: str, ref: str, *, inflate: bool
) -> dict[str, Any]:
    """Manifest, config and every layer blob, sha256-verified; with `inflate` each layer is also
    inflated and walked by tarfile in a thread, fed through a bounded queue."""
    started = time.perf_counter()
    async with session.get(
        f"{registry_url}/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT_ALL}
    ) as response:
        manifest = json.loads(await response.read())
    entries = inflated = downloaded = 0
    layer_seconds: list[float] = []
    for descriptor in [manifest["config"], *manifest["layers"]]:
        is_layer = descriptor is not manifest["config"]
        layer_started = time.perf_counter()
        hasher = hashlib.sha256()
        chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        walker: asyncio.Future[tuple[int, int]] | None = None
        if inflate and is_layer:
            walker = asyncio.ensure_future(
                asyncio.to_thread(_walk_tar, _QueueReader(chunks), descriptor["mediaType"])
            )
        url = f"{registry_url}/v2/{repo}/blobs/{descriptor['digest']}"
        async with session.get(url) as response:
            async for chunk in response.content.iter_chunked(CHUNK):
                hasher.update(chunk)
                downloaded += len(chunk)
                if walker is not None:
                    chunks.put(chunk)  # blocks the loop while the walker is behind: flow control
        if "sha256:" + hasher.hexdigest() != descriptor["digest"]:
            raise RuntimeError(f"blob {descriptor['digest']} does not match its digest")
        if walker is not None:
            chunks.put(None)
            layer_entries, layer_bytes = await walker
            entries += layer_entries
            inflated += layer_bytes
        if is_layer:
            layer_seconds.append(time.perf_counter() - layer_started)
    return {
        "seconds": time.perf_counter() - started,
        "layer_seconds": layer_seconds,
        "downloaded": downloaded,
        "entries": entries,
        "inflated": inflated,
    }
