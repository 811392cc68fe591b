"""The pool of layer worker processes: a killed worker, a cancelled layer, limits inside a
worker, many layers on a small pool, shutdown by PID, and the same findings as a thread."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import psutil
import pytest

from app.scanner.errors import LayerAnalysisFailed, LayerFormatError, LayerLimitExceeded
from app.scanner.layers import LayerFindings, LayerLimits, read_layer
from app.scanner.layers.analysis import IN_THREAD, LayerAnalyser
from app.scanner.layers.findings import PackageFile
from app.scanner.layers.workers import WorkerPool
from app.scanner.layers.workers.process import CHILD_MODULE
from tests.scanner.scan_support import metric, scan_settings, unique_repo
from tests.support.oci.samples import push_debian
from tests.support.oci.tarballs import (
    DIGEST,
    OCI_GZIP,
    OCI_ZSTD,
    chunked,
    file,
    gzip_bytes,
    tar_bytes,
    zeros_layer,
    zstd_bytes,
)
from tests.support.registry import RunningRegistry

MiB = 1 << 20
DEBIAN = 'ID=debian\nVERSION_ID="12"\n'


def status(*names: str) -> str:
    return "".join(f"Package: {n}\nStatus: install ok installed\nVersion: 1.{i}\n\n"
                   for i, n in enumerate(names))  # fmt: skip


def layer(*names: str) -> bytes:
    return gzip_bytes(
        tar_bytes([file("etc/os-release", DEBIAN), file("var/lib/dpkg/status", status(*names))])
    )


def package_names(found: LayerFindings) -> list[str]:
    database = found.files["var/lib/dpkg/status"]
    assert isinstance(database, PackageFile)
    return [record.name for record in database.records]


async def read(
    analyser: LayerAnalyser, blob: bytes, limits: LayerLimits | None = None
) -> LayerFindings:
    return await read_layer(
        chunked(blob, 1000),
        media_type=OCI_GZIP,
        digest=DIGEST,
        limits=limits or LayerLimits(),
        analyser=analyser,
    )


class Stalled:
    """A blob that sends its first bytes, then waits for ever (a registry gone quiet)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def chunks(self) -> AsyncIterator[bytes]:
        yield layer("a")[:50]
        self.started.set()
        await asyncio.Event().wait()
        yield b""  # never reached


def children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def gone(pid: int) -> bool:
    """Neither running nor a zombie waiting to be reaped."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_DEAD
    except psutil.NoSuchProcess:
        return True


def peak_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


async def reaped(pool: WorkerPool, pid: int) -> None:
    async with asyncio.timeout(10):
        while pid in pool.pids:  # noqa: ASYNC110 - another process's end, nothing to await
            await asyncio.sleep(0.02)
    assert gone(pid)


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(1)
    yield workers
    await workers.close()


async def test_a_worker_is_a_process_of_its_own_and_stays_for_the_next_layer(
    pool: WorkerPool,
) -> None:
    assert pool.pids == []  # started on demand
    assert package_names(await read(pool, layer("a", "b"))) == ["a", "b"]
    [worker] = pool.pids
    assert worker != os.getpid()
    assert worker in children()
    assert package_names(await read(pool, layer("c"))) == ["c"]
    assert pool.pids == [worker]


async def test_a_worker_gets_no_credentials_from_the_environment(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://user:secret@db.example/image_service")
    monkeypatch.setenv("IMAGE_SERVICE_METRICS_TOKEN", "secret")
    await read(pool, layer("a"))
    [worker] = pool.pids
    environ = psutil.Process(worker).environ()
    assert "MONGODB_URI" not in environ
    assert "IMAGE_SERVICE_METRICS_TOKEN" not in environ
    assert environ["PATH"] == os.environ["PATH"]


@pytest.mark.parametrize("chunk_size", [1, 100, 64 * 1024])
async def test_the_same_findings_as_in_a_thread(chunk_size: int) -> None:
    blob = zstd_bytes(tar_bytes([file("etc/os-release", DEBIAN), file("big", bytes(3 * MiB))]))
    pool = WorkerPool(1)
    try:
        found = [
            await read_layer(
                chunked(blob, chunk_size), media_type=OCI_ZSTD, digest=DIGEST, analyser=analyser
            )
            for analyser in (IN_THREAD, pool)
        ]
    finally:
        await pool.close()
    assert found[0] == found[1]
    assert found[1].inflated_bytes > 3 * MiB


async def test_a_killed_worker_fails_its_layer_and_is_replaced(pool: WorkerPool) -> None:
    stalled = Stalled()
    reading = asyncio.create_task(read_layer(stalled.chunks(), media_type=OCI_GZIP,
                                             digest=DIGEST, analyser=pool))  # fmt: skip
    await stalled.started.wait()
    [worker] = pool.pids
    os.kill(worker, signal.SIGKILL)
    with pytest.raises(LayerAnalysisFailed) as failed:
        await asyncio.wait_for(reading, 10)
    assert failed.value.message == (
        f"layer {DIGEST} could not be analysed: its worker process (PID {worker})"
        " was killed by SIGKILL"
    )
    await reaped(pool, worker)
    assert package_names(await read(pool, layer("after"))) == ["after"]
    [replacement] = pool.pids
    assert replacement != worker
    assert pool.counters() == {"layer_workers_started": 2, "layer_workers_lost": 1}


async def test_a_worker_that_dies_while_idle_is_replaced_before_use(pool: WorkerPool) -> None:
    await read(pool, layer("a"))
    [worker] = pool.pids
    os.kill(worker, signal.SIGKILL)
    await reaped(pool, worker)  # noticed while idle: the pool drops it
    assert package_names(await read(pool, layer("b"))) == ["b"]


async def test_cancelling_a_layer_stops_the_work_and_keeps_the_worker(pool: WorkerPool) -> None:
    stalled = Stalled()
    reading = asyncio.create_task(read_layer(stalled.chunks(), media_type=OCI_GZIP,
                                             digest=DIGEST, analyser=pool))  # fmt: skip
    await stalled.started.wait()
    [worker] = pool.pids
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(reading, 10)
    # the worker took the ABORT and is back in its loop: it reads the next layer
    assert package_names(await read(pool, layer("next"))) == ["next"]
    assert pool.pids == [worker]


async def test_a_worker_that_does_not_answer_the_abort_is_killed(pool: WorkerPool) -> None:
    stalled = Stalled()
    reading = asyncio.create_task(read_layer(stalled.chunks(), media_type=OCI_GZIP,
                                             digest=DIGEST, analyser=pool))  # fmt: skip
    await stalled.started.wait()
    [worker] = pool.pids
    os.kill(worker, signal.SIGSTOP)  # busy for ever, as far as the service can tell
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(reading, 10)
    await reaped(pool, worker)
    assert package_names(await read(pool, layer("next"))) == ["next"]
    assert pool.pids != [worker]


async def test_a_failing_producer_aborts_the_layer_and_keeps_the_worker(pool: WorkerPool) -> None:
    blob = layer("a")

    async def failing() -> AsyncIterator[bytes]:
        yield blob[:100]
        raise ConnectionResetError("registry went away")

    await read(pool, blob)
    [worker] = pool.pids
    with pytest.raises(ConnectionResetError):
        await read_layer(failing(), media_type=OCI_GZIP, digest=DIGEST, analyser=pool)
    assert package_names(await read(pool, layer("b"))) == ["b"]
    assert pool.pids == [worker]


async def test_limits_hold_inside_a_worker(pool: WorkerPool) -> None:
    many = gzip_bytes(tar_bytes([file(f"f/{i}", b"") for i in range(11)]))
    with pytest.raises(LayerLimitExceeded) as too_many:
        await read(pool, many, limits=LayerLimits(max_files=10))
    assert too_many.value.message == f"layer {DIGEST} has more than 10 entries (max_files)"
    [worker] = pool.pids
    with pytest.raises(LayerLimitExceeded, match=r"inflates to more than 8 MiB"):
        await read(pool, zeros_layer(64 * MiB), limits=LayerLimits(max_inflated_bytes=8 * MiB))
    with pytest.raises(LayerFormatError, match="not a readable tar stream"):
        await read(pool, b"\x1f\x8b" + bytes(5000))
    # errors of the layer, not of the worker: it stays
    assert pool.pids == [worker]


async def test_an_unexpected_error_in_a_worker_is_a_scan_error_and_logged(
    pool: WorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    broken = LayerLimits(max_files="many")  # type: ignore[arg-type] - a bug inside scan_layer
    with pytest.raises(LayerAnalysisFailed) as failed:
        await read(pool, layer("a"), limits=broken)
    assert failed.value.message.startswith(f"layer {DIGEST} could not be analysed: TypeError: ")
    assert "Traceback" in caplog.text
    assert "tar_scan.py" in caplog.text
    [worker] = pool.pids
    assert package_names(await read(pool, layer("b"))) == ["b"]
    assert pool.pids == [worker]


async def test_a_worker_streams_the_layer_in_small_memory(pool: WorkerPool) -> None:
    blob = zeros_layer(160 * MiB)
    found = await read_layer(chunked(blob), media_type=OCI_GZIP, digest=DIGEST, analyser=pool)
    assert found.inflated_bytes > 160 * MiB
    [worker] = pool.pids
    peak = peak_rss(worker)
    assert peak < 80 * MiB, f"worker peak RSS {peak / MiB:.0f} MiB"


async def test_many_layers_at_once_on_a_small_pool() -> None:
    pool = WorkerPool(2)
    try:
        layers = [[f"pkg{index}-{n}" for n in range(index % 5 + 1)] for index in range(40)]
        found = await asyncio.wait_for(
            asyncio.gather(*(read(pool, layer(*names)) for names in layers)), 60
        )
        assert [package_names(f) for f in found] == layers
        assert len(pool.pids) == 2
    finally:
        await pool.close()


async def test_shutdown_stops_and_reaps_every_worker_busy_or_idle() -> None:
    pool = WorkerPool(2)
    await asyncio.gather(read(pool, layer("a")), read(pool, layer("b")))
    stalled = Stalled()
    busy = asyncio.create_task(read_layer(stalled.chunks(), media_type=OCI_GZIP,
                                          digest=DIGEST, analyser=pool))  # fmt: skip
    await stalled.started.wait()
    workers = pool.pids
    assert len(workers) == 2
    assert set(workers) <= children()
    await pool.close()
    assert pool.pids == []
    assert not set(workers) & children()
    assert all(gone(pid) for pid in workers)
    with pytest.raises(LayerAnalysisFailed, match="worker process"):
        await asyncio.wait_for(busy, 10)
    with pytest.raises(LayerAnalysisFailed, match="shut down"):
        await read(pool, layer("late"))


def worker_children() -> set[int]:
    return {
        child.pid
        for child in psutil.Process().children(recursive=True)
        if CHILD_MODULE in " ".join(child.cmdline())
    }


@pytest.mark.parametrize("workers", [0, 1])
async def test_a_scan_through_the_service_in_either_mode(
    workers: int, nx_db: Any, registry: RunningRegistry, app_client: Any
) -> None:
    before = worker_children()
    client = await app_client(scan_settings(registry.host, scan_workers=workers), nx_db)
    pushed = push_debian(registry, unique_repo(), "1.0")
    response = await client.post("/v1/images/scan", json={"imageName": pushed.reference(registry)})
    assert response.status == 200, await response.text()
    components = {(c["name"], c["version"]) for c in (await response.json())["scan"]["components"]}
    assert ("libssl3", "3.0.11-1~deb12u2") in components
    started = worker_children() - before
    assert len(started) == workers
    assert await metric(client, "layer_workers_started") == workers
    assert await metric(client, "layer_workers_lost") == 0
    await client.close()  # the app's shutdown stops its workers by PID
    assert not started & children()
    assert all(gone(pid) for pid in started)
