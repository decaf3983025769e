"""Observability through the real entry points: /metrics scraped after signed-webhook reviews against
the fake GitHub and the fake model; the job context on every log line of a job; bounded label values."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from app.github.routes import route_template
from app.logs import configure_logging
from app.metrics import action_label, event_label
from tests.e2e import (
    BASE,
    INSTALLATION,
    RANKING_DIFF_V1,
    RANKING_FILE_V1,
    REPO,
    SHA1,
    TASK_FINDING,
    Harness,
    make_harness,
    pr_payload,
)
from tests.fakemodel import REFUSAL
from tests.webhook_helpers import signed_headers

DIFF, FILE, FINDING = RANKING_DIFF_V1, RANKING_FILE_V1, TASK_FINDING
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    harness.fake.add_pr(REPO, 7, diff=DIFF, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE})
    yield harness
    await harness.close()


async def scrape(h: Harness) -> tuple[str, Samples]:
    response = await h.client.get("/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def label_values(samples: Samples) -> set[str]:
    return {v for (_, ls) in samples for _, v in ls}


async def test_metrics_after_a_signed_webhook_review(h: Harness) -> None:
    h.model.script("submit_review", {"summary": "One concurrency finding.", "findings": [FINDING]})
    assert (await h.deliver("pull_request", pr_payload("opened"), delivery="dlv-1")).status_code == 202
    assert (await h.deliver("pull_request", pr_payload("opened"), delivery="dlv-1")).status_code == 202  # redelivery
    assert await h.drain() == 1
    assert len(h.reviews()) == 1
    text, samples = await scrape(h)

    # deliveries by outcome
    assert value(samples, "archbot_webhook_deliveries_total", event="pull_request", outcome="enqueued") == 1
    assert value(samples, "archbot_webhook_deliveries_total", event="pull_request", outcome="duplicate") == 1
    # the model: one call, its latency, its tokens by kind
    assert value(samples, "archbot_model_call_seconds_count", outcome="ok") == len(h.model.requests) >= 1
    assert value(samples, "archbot_model_errors_total") == 0
    assert value(samples, "archbot_model_refusals_total") == 0
    assert value(samples, "archbot_model_tokens_total", kind="input") > 0
    assert value(samples, "archbot_model_tokens_total", kind="output") > 0
    assert {"cache_read", "cache_write"} <= {
        dict(ls).get("kind") for (n, ls) in samples if n == "archbot_model_tokens_total"
    }
    # GitHub: by method, route template and status; every request the fake saw is counted once
    review_route = "/repos/{owner}/{repo}/pulls/{id}/reviews"
    assert value(samples, "archbot_github_request_seconds_count", method="POST", route=review_route, status="200") == 1
    assert value(samples, "archbot_github_request_seconds_count", route="/graphql") >= 1
    assert value(samples, "archbot_github_request_seconds_count") == len(h.fake.requests)
    assert value(samples, "archbot_github_rate_limit_waits_total") == 0
    # jobs: one attempt, done; nothing left running; its duration observed
    assert value(samples, "archbot_job_outcomes_total", kind="review_pr", outcome="done") == 1
    assert value(samples, "archbot_job_outcomes_total", outcome="failed") == 0
    assert value(samples, "archbot_jobs_running", kind="review_pr") == 0
    assert value(samples, "archbot_job_seconds_count", kind="review_pr") == 1
    assert value(samples, "archbot_jobs", state="done") == 1
    # label values carry no repository, path from the diff, sha, login or delivery id
    for forbidden in ("octo", "service", "inference", SHA1, "alice", "dlv-1", str(INSTALLATION)):
        assert not any(forbidden in v for v in label_values(samples)), forbidden
    assert "service/inference.py" not in text and SHA1 not in text


async def test_refusals_and_rate_limit_waits_are_counted(h: Harness) -> None:
    h.model.script("submit_review", REFUSAL)
    # a secondary rate limit on the first read of the PR: the read waits (counted) and goes on
    h.fake.fail_next("GET", r"/pulls/7$", status=403, headers={"retry-after": "3"})
    assert (await h.deliver("pull_request", pr_payload("opened"))).status_code == 202
    await h.drain()
    _, samples = await scrape(h)
    assert value(samples, "archbot_model_refusals_total") == 1
    assert value(samples, "archbot_model_call_seconds_count", outcome="refusal") == 1
    assert value(samples, "archbot_github_rate_limit_waits_total") == 1
    assert value(samples, "archbot_github_rate_limit_wait_seconds_total") == 3
    assert (
        value(samples, "archbot_github_request_seconds_count", route="/repos/{owner}/{repo}/pulls/{id}", status="403")
        == 1
    )


async def test_model_errors_are_counted_by_kind(h: Harness) -> None:
    h.model.fail_with = [(529, {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, {})] * 5
    assert (await h.deliver("pull_request", pr_payload("opened"))).status_code == 202
    await h.drain()
    _, samples = await scrape(h)
    errors = value(samples, "archbot_model_errors_total", kind="LLMUnavailable")
    assert errors >= 1 and errors == value(samples, "archbot_model_call_seconds_count", outcome="LLMUnavailable")
    assert value(samples, "archbot_model_call_seconds_count", outcome="ok") == 0
    assert value(samples, "archbot_reviews_total") == 1


async def test_unsigned_junk_cannot_grow_the_label_sets(h: Harness) -> None:
    for index in range(20):
        body = b"{}"
        headers = {"x-github-event": f"evil-{index}-AKIA70TXSL8RHBPY0Q6U", "x-github-delivery": f"d{index}"}
        assert (await h.client.post("/webhook", content=body, headers=headers)).status_code == 401
    body = json.dumps({"action": "Opened; DROP TABLE", "zen": "x", "hook_id": 1}).encode()
    response = await h.client.post("/webhook", content=body, headers=signed_headers(body, "ping"))
    assert response.status_code == 200
    _, samples = await scrape(h)
    events = {dict(ls)["event"] for (n, ls) in samples if n == "archbot_webhook_deliveries_total"}
    actions = {dict(ls)["action"] for (n, ls) in samples if n == "archbot_webhook_deliveries_total"}
    assert events == {"other", "ping"}
    assert actions <= {"none", "other"}
    assert value(samples, "archbot_webhook_deliveries_total", event="other", outcome="bad_signature") == 20


def test_label_helpers_and_route_templates_are_bounded() -> None:
    assert event_label("pull_request") == "pull_request"
    assert event_label("x" * 60) == "other" and event_label("") == "none"
    assert action_label("synchronize") == "synchronize" and action_label("A B") == "other"
    cases = {
        "https://api.github.com/repos/o/r/pulls/7/reviews": "/repos/{owner}/{repo}/pulls/{id}/reviews",
        "/repos/o/r/contents/src/secret/ghp_x.py?ref=abc": "/repos/{owner}/{repo}/contents/{path}",
        "/app/installations/42/access_tokens": "/app/installations/{id}/access_tokens",
        "/repos/o/r/compare/aaa...bbb": "/repos/{owner}/{repo}/compare/{basehead}",
        "/repos/o/r/collaborators/mallory/permission": "/repos/{owner}/{repo}/collaborators/{username}/permission",
        "/api/v3/repos/o/r/check-runs/9": "/repos/{owner}/{repo}/check-runs/{id}",
        "/graphql": "/graphql",
        "/repos/o/r/unknown-thing/x/y": "/repos/{owner}/{repo}/{param}/{param}/{param}",
    }
    for url, template in cases.items():
        assert route_template(url, api_prefix="/api/v3") == template, url
    deep = "/repos/o/r/" + "/".join(f"seg{i}" for i in range(50))
    assert route_template(deep).count("/") <= 10


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("DEBUG", fmt="json", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


async def test_every_log_line_of_a_job_carries_its_context(json_logs: io.StringIO, h: Harness) -> None:
    h.model.script("submit_review", {"summary": "One concurrency finding.", "findings": [FINDING]})
    h.fake.fail_next("GET", r"/pulls/7$", status=403, headers={"retry-after": "1"})  # a stdlib warning in the job
    assert (await h.deliver("pull_request", pr_payload("opened"), delivery="dlv-123")).status_code == 202
    assert await h.drain() == 1
    lines = json_logs.getvalue().splitlines()
    structured = [json.loads(line) for line in lines if line.startswith("{")]
    job_lines = [entry for entry in structured if entry.get("job_id") is not None]
    events = {entry["event"] for entry in job_lines}
    assert {"job.started", "job.done"} <= events and len(events) >= 3  # lines from inside the job, too
    for entry in job_lines:
        assert entry["delivery_id"] == "dlv-123", entry["event"]
        assert entry["installation_id"] == INSTALLATION, entry["event"]
        assert entry["repo"] == REPO and entry["number"] == 7, entry["event"]
    # the lines logged between job.started and job.done all belong to the job
    start = next(i for i, e in enumerate(structured) if e["event"] == "job.started")
    end = next(i for i, e in enumerate(structured) if e["event"] == "job.done")
    assert all(e.get("job_id") == structured[start]["job_id"] for e in structured[start : end + 1])
    # the standard library's lines inside the job (the rate-limit wait) carry it too
    plain = [line for line in lines if not line.startswith("{") and "rate limited" in line]
    assert plain and all("delivery_id=dlv-123" in line and f"repo={REPO}" in line for line in plain)
    assert "job_id=" in plain[0]
