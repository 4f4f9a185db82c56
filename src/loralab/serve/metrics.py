"""Prometheus metrics, one registry per app (several apps may live in one process, e.g. in tests)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("loralab_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=self.registry)
        self.latency = Histogram("loralab_request_duration_seconds", "request latency", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_items = Histogram("loralab_batch_items", "items per model batch", buckets=BATCH_BUCKETS,
                                     registry=self.registry)
        self.batch_seconds = Histogram("loralab_batch_duration_seconds", "model time per batch",
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.items = Counter("loralab_items", "query-document pairs or texts scored", registry=self.registry)
        self.queue_depth = Gauge("loralab_queue_depth", "requests waiting for the model", registry=self.registry)

    def on_batch(self, items: int, seconds: float) -> None:
        self.batch_items.observe(items)
        self.batch_seconds.observe(seconds)
        self.items.inc(items)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP response by route template (not raw path, to keep label cardinality bounded)."""

    def __init__(self, app, metrics: ServeMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(name, str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)
