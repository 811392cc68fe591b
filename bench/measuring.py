"""Resources a benchmarked process uses: CPU seconds, and its peak RSS polled in a thread."""

from __future__ import annotations

import contextlib
import threading

import psutil

MiB = 1024 * 1024


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


class RssPoller:
    """Polls a process's RSS every `interval_s` in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self._process = psutil.Process(pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.baseline = self._process.memory_info().rss
        self.peak = self.baseline
        self.samples = 0
        self._thread = threading.Thread(target=self._run, name="rss-poller", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self._process.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            self.samples += 1
            self._stop.wait(self._interval_s)

    def __enter__(self) -> RssPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(psutil.Error):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def report(self) -> dict[str, float]:
        return {
            "baseline_mb": self.baseline / MiB,
            "peak_mb": self.peak / MiB,
            "growth_mb": (self.peak - self.baseline) / MiB,
            "samples": self.samples,
        }
