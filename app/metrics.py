"""Prometheus metrics: requests by route and status, and their latency."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

from app.failures import RENDERED, is_failure, note_failure

# Latency buckets (upper bounds, seconds) of image_service_http_request_seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)


class _AnswerCollector:
    """Answers by route and status, and their latency, kept as plain numbers on the request path
    (a prometheus_client child takes a lock per update) and turned into metrics on a scrape."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str, str], int] = {}
        # per (method, route): a count per bucket, one more past every bound, then the sum
        self.latency: dict[tuple[str, str], list[float]] = {}

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        answers = CounterMetricFamily(
            "image_service_http_requests",
            "HTTP requests answered",
            labels=["method", "route", "status"],
        )
        for answer, count in list(self.answers.items()):
            answers.add_metric(list(answer), count)
        latency = HistogramMetricFamily(
            "image_service_http_request_seconds",
            "Time to answer (streams: time to the end of the stream)",
            labels=["method", "route"],
        )
        bounds = [*(str(float(bound)) for bound in LATENCY_BUCKETS), "+Inf"]
        for route, counts in list(self.latency.items()):
            cumulative, buckets = 0.0, []
            for bound, in_bucket in zip(bounds, counts, strict=False):
                cumulative += in_bucket
                buckets.append((bound, cumulative))
            latency.add_metric(list(route), buckets, sum_value=counts[-1])
        yield answers
        yield latency

    def describe(self) -> list[CounterMetricFamily]:
        return []


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self._answers = _AnswerCollector()
        self.registry.register(self._answers)
        # 5xx and 429 by cause (the exception type rendered), beside their log lines
        self.failures = Counter(
            "image_service_http_failures",
            "5xx and 429 answers (and export streams ended by such an error) by cause",
            ["method", "route", "status", "cause"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: str, seconds: float) -> None:
        """Count one answer and its latency."""
        answers = self._answers.answers
        key = (method, route, status)
        answers[key] = answers.get(key, 0) + 1
        latency = self._answers.latency.get((method, route))
        if latency is None:
            latency = self._answers.latency[(method, route)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        latency[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency[-1] += seconds


METRICS = web.AppKey("image_service.metrics", Metrics)


def record_answer(
    metrics: Metrics,
    request: web.Request,
    route: str,
    status: str,
    started: float,
    *,
    streamed: bool,
) -> None:
    """Count one answer to `route` (`status` as the client got it, "499" when it hung up) with
    its latency, and log and count it as a failure when it is one (a `streamed` 200 may have
    ended in an error line)."""
    metrics.observe(request.method, route, status, time.perf_counter() - started)
    if is_failure(status) or (streamed and status == "200" and RENDERED in request):
        note_failure(request, metrics.failures, route, status)


class CounterCollector:
    """Exposes counters kept as plain numbers elsewhere (no prometheus in the services)."""

    def __init__(self, prefix: str, read: Callable[[], Mapping[str, float]]) -> None:
        self._prefix = prefix
        self._read = read

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, value in self._read().items():
            yield CounterMetricFamily(
                f"{self._prefix}_{name}", f"{name.replace('_', ' ')} since start", value=value
            )

    def describe(self) -> list[CounterMetricFamily]:
        return []


def register_counters(
    metrics: Metrics, prefix: str, read: Callable[[], Mapping[str, float]]
) -> None:
    metrics.registry.register(CounterCollector(prefix, read))
