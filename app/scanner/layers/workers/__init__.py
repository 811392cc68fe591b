"""Layer analysis in worker processes: the pool (service side), one worker's handle, the worker's
own loop, and the frames between them.

A worker is a fresh interpreter (`python -m app.scanner.layers.workers.child`, like
multiprocessing's spawn, never a fork of the running service) that reads frames on its stdin and
answers on its stdout. It analyses one layer at a time and stays for the next.
"""

from __future__ import annotations

from app.scanner.layers.workers.pool import WorkerPool

__all__ = ["WorkerPool"]
