"""Prometheus metrics: requests by route and status, and their latency."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily

from app.failures import RENDERED, is_failure, note_failure


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "image_service_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "image_service_http_request_seconds",
            "Time to answer (streams: time to the end of the stream)",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
        )
        # 5xx and 429 by cause (the exception type rendered), beside their log lines
        self.failures = Counter(
            "image_service_http_failures",
            "5xx and 429 answers (and export streams ended by such an error) by cause",
            ["method", "route", "status", "cause"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: str, seconds: float) -> None:
        """Count one answer; labelled children are cached (labels() costs more than inc())."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(*key), self.latency.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


METRICS = web.AppKey("image_service.metrics", Metrics)


def record_answer(request: web.Request, status: str, started: float) -> None:
    """Count one answer (`status` as the client got it, "499" when it hung up) with its latency,
    and log and count it as a failure when it is one."""
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else "unmatched"
    metrics = request.app[METRICS]
    metrics.observe(request.method, template, status, time.perf_counter() - started)
    if is_failure(status) or (status == "200" and RENDERED in request):
        note_failure(request, metrics.failures, template, status)


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
