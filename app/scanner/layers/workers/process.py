"""One worker process seen from the service: start it, send it a layer, read its answers."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import pickle
import signal
import sys
from collections.abc import AsyncIterable, Callable
from pathlib import Path

from app.scanner.errors import LayerAnalysisFailed
from app.scanner.layers.analysis import IN_FLIGHT_CHUNKS
from app.scanner.layers.findings import Compression, LayerFindings
from app.scanner.layers.limits import LayerLimits
from app.scanner.layers.workers.wire import HEADER, Failure, Job, Kind, frame

logger = logging.getLogger(__name__)

CHILD_MODULE = "app.scanner.layers.workers.child"
# where the `app` package is: a worker imports it whatever the service's working directory
_ROOT = str(Path(__file__).resolve().parents[4])
# a worker told to abort a layer gets this long to answer before it is killed
ABORT_GRACE_S = 1.0
# how long stop() waits after SIGTERM before SIGKILL
STOP_GRACE_S = 2.0


# what a worker keeps of the service's environment: no credentials reach the process that
# parses untrusted layers
_KEPT_VARIABLES = ("PATH", "HOME", "LANG", "TZ", "TMPDIR")
_KEPT_PREFIXES = ("LC_", "PYTHON")


def _worker_env() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name in _KEPT_VARIABLES or name.startswith(_KEPT_PREFIXES)
    }
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = _ROOT + (os.pathsep + path if path else "")
    return env


# the pipe to a worker holds the chunks in flight (4 × 64 KiB and their headers) so that a send
# does not wait for the worker to read; Linux's default is 64 KiB
_PIPE_BYTES = 1 << 20


def _widen_pipe(process: asyncio.subprocess.Process) -> None:
    assert process.stdin is not None
    pipe = process.stdin.transport.get_extra_info("pipe")
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or over pipe-max-size
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


class _Layer:
    """The layer a worker is analysing: credits for chunks in flight, and the answer."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        self.credits = asyncio.Semaphore(IN_FLIGHT_CHUNKS)
        self.answer: asyncio.Future[LayerFindings] = asyncio.get_running_loop().create_future()
        # an abandoned layer's error is nobody's news: mark it retrieved
        self.answer.add_done_callback(lambda done: done.cancelled() or done.exception())
        self.ended = False  # END or ABORT sent

    def settle(self, findings: LayerFindings | None, error: BaseException | None) -> None:
        if not self.answer.done():
            if error is not None:
                self.answer.set_exception(error)
            else:
                self.answer.set_result(findings)  # type: ignore[arg-type]
        self.credits.release()  # wake a sender waiting for room

    def failed(self) -> bool:
        return self.answer.done() and self.answer.exception() is not None


class WorkerProcess:
    """A started worker; analyses one layer at a time (the pool sees to that)."""

    def __init__(
        self, process: asyncio.subprocess.Process, on_end: Callable[[WorkerProcess], None]
    ) -> None:
        self._process = process
        self._layer: _Layer | None = None
        self._broken = False
        self._frames = asyncio.create_task(self._read_frames(), name=f"layer-worker {self.pid}")
        self._frames.add_done_callback(lambda _: on_end(self))

    @classmethod
    async def start(cls, on_end: Callable[[WorkerProcess], None]) -> WorkerProcess:
        """A new worker; `on_end` is called when its output ends (it exited or was killed).

        Raises:
            LayerAnalysisFailed: the process could not be started.
        """
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                CHILD_MODULE,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=_worker_env(),
            )
        except OSError as exc:
            raise LayerAnalysisFailed(
                f"a layer worker process could not be started: {exc}"
            ) from exc
        _widen_pipe(process)
        return cls(process, on_end)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def ready(self) -> bool:
        """Alive, and not in the middle of a layer."""
        return not self._broken and self._layer is None and not self._frames.done()

    async def analyse(
        self,
        chunks: AsyncIterable[bytes],
        *,
        declared: Compression | None,
        digest: str,
        limits: LayerLimits,
    ) -> LayerFindings:
        if not self.ready:
            raise LayerAnalysisFailed(f"layer {digest}: worker process {self.pid} is not ready")
        layer = self._layer = _Layer(digest)
        try:
            await self._send(Kind.JOB, pickle.dumps(Job(declared, digest, limits)))
            complete = await self._feed_until_failed(layer, chunks)
            layer.ended = True
            await self._send(Kind.END if complete else Kind.ABORT)
            findings = await asyncio.shield(layer.answer)
        except BaseException:
            await self._abandon(layer)
            raise
        self._layer = None
        return findings

    async def _feed_until_failed(self, layer: _Layer, chunks: AsyncIterable[bytes]) -> bool:
        """_feed, stopped as soon as the layer fails (e.g. the worker died) even while it waits
        for the next chunk."""
        feeding = asyncio.create_task(self._feed(layer, chunks))

        def stop_feeding(answer: asyncio.Future[LayerFindings]) -> None:
            if not answer.cancelled() and answer.exception() is not None:
                feeding.cancel()

        layer.answer.add_done_callback(stop_feeding)
        try:
            return await feeding
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if layer.failed() and current is not None and not current.cancelling():
                return False  # cancelled by stop_feeding, not by our caller
            raise
        finally:
            layer.answer.remove_done_callback(stop_feeding)

    async def _feed(self, layer: _Layer, chunks: AsyncIterable[bytes]) -> bool:
        """Send every chunk; False when the worker failed and the rest is not wanted."""
        async for chunk in chunks:
            if layer.failed():
                return False
            if not chunk or layer.answer.done():
                continue  # the tar ended: the rest is consumed unread
            await layer.credits.acquire()
            if layer.answer.done():
                if layer.failed():
                    return False
                continue
            await self._send(Kind.CHUNK, chunk)
        return True

    async def _send(self, kind: Kind, payload: bytes = b"") -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(frame(kind, payload))
            await stdin.drain()
        except ConnectionError:
            # the worker is gone; once its output ends, the layer's answer says how
            await asyncio.shield(self._frames)
            layer = self._layer
            if layer is not None and layer.answer.done():
                await layer.answer  # raises
            raise

    async def _abandon(self, layer: _Layer) -> None:
        """The layer failed on our side or was cancelled: stop the worker's work on it, by
        ABORT if it listens within ABORT_GRACE_S, else by SIGKILL."""
        if not layer.ended:
            layer.ended = True
            stdin = self._process.stdin
            if stdin is not None and not stdin.is_closing():
                stdin.write(frame(Kind.ABORT))  # the transport buffers it: no waiting for room
        if not layer.answer.done():
            try:
                await asyncio.wait([layer.answer], timeout=ABORT_GRACE_S)
            finally:
                if not layer.answer.done():
                    self.kill()
        if layer.answer.done() and not self._broken:
            self._layer = None

    def kill(self) -> None:
        """SIGKILL by PID; the pool replaces a killed worker."""
        self._broken = True
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def stop(self) -> None:
        """SIGTERM by PID, SIGKILL after STOP_GRACE_S; returns once the process is reaped."""
        self._broken = True
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), STOP_GRACE_S)
            except TimeoutError:
                self.kill()
                await self._process.wait()
        await asyncio.wait([self._frames])

    async def _read_frames(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            while True:
                kind, length = HEADER.unpack(await stdout.readexactly(HEADER.size))
                payload = await stdout.readexactly(length) if length else b""
                self._on_frame(Kind(kind), payload)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the process ended
        except Exception:  # a frame we cannot make sense of: the worker is not trusted again
            logger.exception("layer worker %d sent a bad frame; killing it", self.pid)
            self.kill()
        self._broken = True
        layer = self._layer
        if layer is not None and not layer.answer.done():
            error = LayerAnalysisFailed(
                f"layer {layer.digest} could not be analysed: its worker process "
                f"(PID {self.pid}) {await self._how_it_ended()}"
            )
            layer.settle(None, error)

    def _on_frame(self, kind: Kind, payload: bytes) -> None:
        layer = self._layer
        if layer is None:
            raise ValueError(f"{kind.name} frame while no layer is being analysed")
        if kind is Kind.TAKEN:
            layer.credits.release()
        elif kind is Kind.FINDINGS:
            layer.settle(pickle.loads(payload), None)  # noqa: S301 - our own worker's answer
        elif kind is Kind.FAILED:
            failure: Failure = pickle.loads(payload)  # noqa: S301 - our own worker's answer
            if failure.error is None and failure.text:
                logger.error(
                    "layer %s failed in worker %d:\n%s", layer.digest, self.pid, failure.text
                )
            layer.settle(None, failure.exception(layer.digest))
        else:
            raise ValueError(f"unexpected {kind.name} frame from a worker")

    async def _how_it_ended(self) -> str:
        try:
            code = await asyncio.wait_for(self._process.wait(), STOP_GRACE_S)
        except TimeoutError:
            self.kill()
            code = await self._process.wait()
        if code < 0:
            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with status {code}"
