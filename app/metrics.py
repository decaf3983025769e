"""Prometheus metrics in a registry of our own (no process-wide default registry).

Every label value is bounded and carries nothing a user wrote: event names from a fixed list, route
templates (never URLs), exception class names, job kinds and outcomes. No repository, path, login,
delivery id or token ever becomes a label.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from app.tracing import Tracer

JOB_STATES = ("queued", "running", "failed", "done", "superseded")
OTHER = "other"

# The webhook events a label may name (GitHub's names); anything else, unsigned junk included, is "other".
KNOWN_EVENTS = frozenset(
    {
        "check_run",
        "check_suite",
        "create",
        "delete",
        "installation",
        "installation_repositories",
        "installation_target",
        "issue_comment",
        "issues",
        "label",
        "ping",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "pull_request_review_thread",
        "push",
        "repository",
        "github_app_authorization",
        "workflow_run",
        "workflow_job",
        "status",
    }
)
_ACTION = re.compile(r"[a-z_]{1,32}")
_RATE_RESOURCES = frozenset({"core", "graphql", "search", "code_search", "integration_manifest"})

MODEL_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)
GITHUB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def event_label(name: str) -> str:
    """``name`` when it is a known webhook event, else ``other`` (the header is untrusted)."""
    return name if name in KNOWN_EVENTS else (OTHER if name else "none")


def action_label(action: str) -> str:
    """A payload's ``action`` when it looks like one (lower-case word), else ``other``."""
    if not action:
        return "none"
    return action if _ACTION.fullmatch(action) else OTHER


def rate_resource_label(resource: str | None) -> str:
    """GitHub's ``x-ratelimit-resource`` when it is one of the documented resources, else ``other``."""
    return resource if resource in _RATE_RESOURCES else OTHER


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
    """Every metric archbot exports; one instance per app, passed in.

    It also carries the process's tracer (``app.tracing``; a no-op by default), so each instrumented
    edge (receiver, worker, GitHub transport, model client) gets both through one dependency."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        from app.tracing import Tracer

        self.tracer: Tracer = tracer if tracer is not None else Tracer()
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.deliveries = Counter(
            "archbot_webhook_deliveries", "Webhook deliveries by event, action and outcome",
            ["event", "action", "outcome"], registry=reg,
        )  # fmt: skip
        self.ack_latency = Histogram(
            "archbot_webhook_ack_seconds",
            "Time from request start to the webhook answer",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=reg,
        )
        self.reviews = Counter("archbot_reviews", "Reviews finished by outcome", ["outcome"], registry=reg)
        self.model_tokens = Counter("archbot_model_tokens", "Model tokens spent by kind", ["kind"], registry=reg)
        # -- the model: one observation per Messages API call --
        self.model_calls = Histogram(
            "archbot_model_call_seconds", "Model API calls by outcome (ok, refusal, or the error kind)",
            ["outcome"], buckets=MODEL_BUCKETS, registry=reg,
        )  # fmt: skip
        self.model_errors = Counter(
            "archbot_model_errors", "Failed model API calls by error kind", ["kind"], registry=reg
        )
        self.model_refusals = Counter("archbot_model_refusals", "Model answers with stop_reason refusal", registry=reg)
        # -- GitHub: one observation per HTTP request on the wire --
        self.github_requests = Histogram(
            "archbot_github_request_seconds", "GitHub API requests by method, route template and status",
            ["method", "route", "status"], buckets=GITHUB_BUCKETS, registry=reg,
        )  # fmt: skip
        self.github_rate_limit_waits = Counter(
            "archbot_github_rate_limit_waits", "Waits GitHub's rate limits asked for", registry=reg
        )
        self.github_rate_limit_wait_seconds = Counter(
            "archbot_github_rate_limit_wait_seconds", "Seconds spent waiting on GitHub's rate limits", registry=reg
        )
        self.github_quota_remaining = Gauge(
            "archbot_github_ratelimit_remaining", "x-ratelimit-remaining of the last answer, by resource",
            ["resource"], registry=reg,
        )  # fmt: skip
        self.github_degraded = Counter(
            "archbot_github_degraded",
            "GitHub reads that went on without an optional part GitHub refused, by part and reason",
            ["part", "reason"],
            registry=reg,
        )
        self.suggestions = Counter(
            "archbot_suggestions",
            "Suggestions checked before posting, by verdict (committable or why not) and origin",
            ["check", "origin"],
            registry=reg,
        )
        self.thread_answers = Counter(
            "archbot_thread_answers",
            "Answers posted in archbot's review threads, by verdict (concede, hold, unsure)",
            ["verdict"],
            registry=reg,
        )
        self.review_model_calls = Counter(  # the status page's error rate (model_calls times every call)
            "archbot_model_calls",
            "Model calls of PR reviews by outcome (ok, error)",
            ["outcome"],
            registry=reg,
        )
        self.github_outcomes = Counter(  # the status page's error rate (github_requests times them)
            "archbot_github_requests",
            "GitHub API requests by outcome (ok, client_error, rate_limited, server_error, transport_error)",
            ["outcome"],
            registry=reg,
        )
        # -- jobs, as this process's worker ran them (the queue's own counts are archbot_jobs) --
        self.jobs_running = Gauge("archbot_jobs_running", "Jobs this worker runs now, by kind", ["kind"], registry=reg)
        self.job_outcomes = Counter(
            "archbot_job_outcomes", "Job attempts by kind and outcome (done, retried, superseded, failed, cancelled)",
            ["kind", "outcome"], registry=reg,
        )  # fmt: skip
        self.job_duration = Histogram(
            "archbot_job_seconds", "Duration of job attempts by kind", ["kind"], buckets=JOB_BUCKETS, registry=reg
        )
        self.worker_up = Gauge("archbot_worker_running", "1 while the worker loop runs", registry=reg)
        self._jobs = _JobGaugeCollector()
        reg.register(self._jobs)

    def rate_limit_wait(self, seconds: float) -> None:
        """Count one wait GitHub's rate limits asked for."""
        self.github_rate_limit_waits.inc()
        self.github_rate_limit_wait_seconds.inc(max(seconds, 0.0))

    def observe_github(self, outcome: str) -> None:
        """Count one GitHub request (``SharedTransport``'s observer)."""
        self.github_outcomes.labels(outcome=outcome).inc()

    async def render(self, sample_jobs: Callable[[], Awaitable[dict[str, int]]] | None) -> bytes:
        """The exposition text; job counts are sampled from the store first when a sampler is given."""
        if sample_jobs is not None:
            self._jobs.counts = await sample_jobs()
        return generate_latest(self.registry)
