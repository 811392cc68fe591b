"""Frames between the service and a layer worker: a kind byte, an 8-byte length, the payload.

Per layer the service sends JOB, then CHUNKs, then exactly one END (no more chunks) or ABORT
(stop); the worker answers TAKEN for every chunk it takes (a credit: the service keeps a few
chunks in flight) and exactly one FINDINGS or FAILED. Frames after those belong to the next layer.
"""

from __future__ import annotations

import struct
import traceback
from dataclasses import dataclass
from enum import IntEnum

from app.scanner.errors import LayerAnalysisFailed, ScanError
from app.scanner.layers.findings import Compression
from app.scanner.layers.limits import LayerLimits

HEADER = struct.Struct("!BQ")


class Kind(IntEnum):
    # service -> worker
    JOB = 1  # a pickled Job
    CHUNK = 2  # the layer's bytes
    END = 3
    ABORT = 4
    # worker -> service
    TAKEN = 5
    FINDINGS = 6  # pickled LayerFindings
    FAILED = 7  # a pickled Failure


def frame(kind: Kind, payload: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


@dataclass(frozen=True, slots=True)
class Job:
    declared: Compression | None
    digest: str
    limits: LayerLimits


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a layer failed in the worker: a ScanError as raised, or any other error as text."""

    error: ScanError | None
    text: str = ""

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        if isinstance(exc, ScanError):
            return cls(exc)
        return cls(None, "".join(traceback.format_exception(exc)))

    def exception(self, digest: str) -> ScanError:
        if self.error is not None:
            return self.error
        last = self.text.strip().splitlines()[-1] if self.text.strip() else "unknown error"
        return LayerAnalysisFailed(f"layer {digest} could not be analysed: {last}")
