"""Prometheus metrics in a registry of our own (no process-wide default registry)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

JOB_STATES = ("queued", "running", "failed", "done", "superseded")


class _JobGaugeCollector(Collector):
    """Reports job counts by state as last sampled (sampling is async and done before each scrape)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("archbot_jobs", "Jobs in the queue by state", labels=["state"])
        for state in JOB_STATES:
            family.add_metric([state], float(self.counts.get(state, 0)))
        yield family


class Metrics:
    """Every metric archbot exports; one instance per app, passed in."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "archbot_webhook_deliveries",
            "Webhook deliveries by event, action and outcome",
            ["event", "action", "outcome"],
            registry=self.registry,
        )
        self.ack_latency = Histogram(
            "archbot_webhook_ack_seconds",
            "Time from request start to the webhook answer",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=self.registry,
        )
        self.reviews = Counter("archbot_reviews", "Reviews finished by outcome", ["outcome"], registry=self.registry)
        self.model_tokens = Counter(
            "archbot_model_tokens", "Model tokens spent by kind", ["kind"], registry=self.registry
        )
        self.github_degraded = Counter(
            "archbot_github_degraded",
            "GitHub reads that went on without an optional part GitHub refused, by part and reason",
            ["part", "reason"],
            registry=self.registry,
        )
        self.suggestions = Counter(
            "archbot_suggestions",
            "Suggestions checked before posting, by verdict (committable or why not) and origin",
            ["check", "origin"],
            registry=self.registry,
        )
        self.thread_answers = Counter(
            "archbot_thread_answers",
            "Answers posted in archbot's review threads, by verdict (concede, hold, unsure)",
            ["verdict"],
            registry=self.registry,
        )
        self.model_calls = Counter(
            "archbot_model_calls",
            "Model calls of PR reviews by outcome (ok, error)",
            ["outcome"],
            registry=self.registry,
        )
        self.github_requests = Counter(
            "archbot_github_requests",
            "GitHub API requests by outcome (ok, client_error, rate_limited, server_error, transport_error)",
            ["outcome"],
            registry=self.registry,
        )
        self.worker_up = Gauge("archbot_worker_running", "1 while the worker loop runs", registry=self.registry)
        self._jobs = _JobGaugeCollector()
        self.registry.register(self._jobs)

    def observe_github(self, outcome: str) -> None:
        """Count one GitHub request (``SharedTransport``'s observer)."""
        self.github_requests.labels(outcome=outcome).inc()

    async def render(self, sample_jobs: Callable[[], Awaitable[dict[str, int]]] | None) -> bytes:
        """The exposition text; job counts are sampled from the store first when a sampler is given."""
        if sample_jobs is not None:
            self._jobs.counts = await sample_jobs()
        return generate_latest(self.registry)
