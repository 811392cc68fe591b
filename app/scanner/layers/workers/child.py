"""The worker process: analyses the layers the service sends on stdin, one at a time, and
answers on stdout. Run as `python -m app.scanner.layers.workers.child`; exits at end of input."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import traceback
from typing import BinaryIO

from app.scanner.layers.tar_scan import scan_layer
from app.scanner.layers.workers.wire import HEADER, Failure, Job, Kind, frame


class Aborted(Exception):
    """The service stopped this layer (ABORT)."""


class ServiceGone(Exception):
    """End of input: the service closed the pipe or exited."""


class Channel:
    """Blocking frame reads and writes on the worker's side."""

    def __init__(self, inbox: BinaryIO, outbox: BinaryIO) -> None:
        self._inbox = inbox
        self._outbox = outbox

    def read(self) -> tuple[Kind, bytes]:
        header = self._inbox.read(HEADER.size)
        if len(header) < HEADER.size:
            raise ServiceGone
        kind, length = HEADER.unpack(header)
        payload = self._inbox.read(length) if length else b""
        if len(payload) < length:
            raise ServiceGone
        return Kind(kind), payload

    def write(self, kind: Kind, payload: bytes = b"") -> None:
        self._outbox.write(frame(kind, payload))
        self._outbox.flush()


class LayerInput:
    """One layer's chunks as scan_layer's `receive`: b"" after END, Aborted after ABORT."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.terminal: Kind | None = None

    def receive(self) -> bytes:
        if self.terminal is Kind.END:
            return b""
        if self.terminal is Kind.ABORT:
            raise Aborted
        kind, payload = self._channel.read()
        if kind is Kind.CHUNK:
            self._channel.write(Kind.TAKEN)
            return payload
        if kind in (Kind.END, Kind.ABORT):
            self.terminal = kind
            return self.receive()
        raise ServiceGone(f"unexpected {kind.name} frame inside a layer")

    def skip_rest(self) -> None:
        """Read (unused) up to this layer's END or ABORT: what follows is the next layer."""
        while self.terminal is None:
            kind, _ = self._channel.read()
            if kind in (Kind.END, Kind.ABORT):
                self.terminal = kind


def analyse(channel: Channel, job: Job) -> None:
    layer = LayerInput(channel)
    try:
        findings = scan_layer(
            layer.receive, declared=job.declared, digest=job.digest, limits=job.limits
        )
        answer = (Kind.FINDINGS, pickle.dumps(findings, pickle.HIGHEST_PROTOCOL))
    except ServiceGone:
        raise
    except Aborted:
        answer = (Kind.FAILED, pickle.dumps(Failure(None), pickle.HIGHEST_PROTOCOL))
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the service
        answer = (Kind.FAILED, _failure(exc))
    channel.write(*answer)
    layer.skip_rest()


def _failure(exc: Exception) -> bytes:
    """The pickled Failure; as text when the error itself does not pickle."""
    try:
        return pickle.dumps(Failure.of(exc), pickle.HIGHEST_PROTOCOL)
    except Exception as unpicklable:  # noqa: BLE001
        exc.add_note(f"(sent as text: {unpicklable})")
        return pickle.dumps(Failure(None, "".join(traceback.format_exception(exc))))


def serve(channel: Channel) -> None:
    while True:
        kind, payload = channel.read()
        if kind is Kind.JOB:
            analyse(channel, pickle.loads(payload))  # noqa: S301 - from our own service
        # anything else is left over from a layer already answered


def main() -> None:
    # Ctrl-C reaches the whole process group: the service decides when its workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inbox = os.fdopen(os.dup(0), "rb")
    outbox = os.fdopen(os.dup(1), "wb")
    # nothing printed by accident may corrupt the frames: stdout goes to stderr from here on
    os.dup2(2, 1)
    sys.stdin.close()
    with contextlib.suppress(ServiceGone, BrokenPipeError):
        serve(Channel(inbox, outbox))


if __name__ == "__main__":
    main()
