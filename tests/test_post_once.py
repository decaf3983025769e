"""Exactly-once posting when a run dies between its writes (in process; ``test_crash_restart.py`` kills a
real ``archbot serve``). Each write fails once with a 502 (GitHub took it or not, the run cannot tell) and
the retried job must leave one review, one summary and one completed check run for the head sha."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.review.markers import parse_marker
from tests.e2e import BASE, PRS, REPO, SHA1, Harness, make_harness, pr_payload

DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
FILE_V1 = (PRS / "inference_v1.py").read_text()
LEAK = {
    "path": "service/inference.py",
    "line": 36,
    "side": "RIGHT",
    "severity": "high",
    "category": "security",
    "title": "Raw request body logged",
    "rationale": "Logging the request body leaks user data.",
}


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    harness.fake.add_pr(
        REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1}
    )
    harness.model.script("submit_review", {"summary": "Logs user data.", "findings": [LEAK]})
    yield harness
    await harness.close()


def summaries(h: Harness) -> list[Any]:
    return [c for c in h.comments() if parse_marker(c.body, "summary") is not None]


async def run_until_done(h: Harness) -> None:
    for _ in range(4):
        await h.drain()
        h.clock.now += 3600  # past any retry backoff
    counts = await h.queue.counts()
    assert counts["done"] == 1 and counts["queued"] == counts["running"] == 0, counts


def assert_posted_once(h: Harness) -> None:
    assert len(h.reviews()) == 1
    assert len(summaries(h)) == 1
    runs = [r for r in h.fake.check_runs(REPO) if r.head_sha == SHA1]
    assert [(r.status) for r in runs] == ["completed"], [(r.status, r.conclusion) for r in runs]


async def test_check_run_left_unfinished_after_the_summary_is_completed_on_retry(h: Harness) -> None:
    h.fake.fail_next("PATCH", r"/check-runs/\d+$", status=502)  # the run dies after the summary
    await h.deliver("pull_request", pr_payload("opened"))
    await run_until_done(h)
    assert_posted_once(h)
    [run] = h.fake.check_runs(REPO)
    assert run.conclusion == "neutral" and "summary" in (run.title or "")


async def test_body_only_review_after_a_422_is_not_posted_twice(h: Harness) -> None:
    h.fake.fail_next("POST", r"/pulls/7/reviews$", status=422, json={"message": "Unprocessable Entity"})
    h.fake.fail_next("POST", r"/issues/7/comments$", status=502)  # then the summary write dies
    await h.deliver("pull_request", pr_payload("opened"))
    await run_until_done(h)
    assert_posted_once(h)
    [review] = h.reviews()
    assert review.comments == [] and review.event == "COMMENT"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", r"/check-runs$"),
        ("POST", r"/pulls/7/reviews$"),
        ("POST", r"/issues/7/comments$"),
        ("PATCH", r"/check-runs/\d+$"),
    ],
)
async def test_a_502_on_any_write_posts_nothing_twice(h: Harness, method: str, path: str) -> None:
    h.fake.fail_next(method, path, status=502)
    await h.deliver("pull_request", pr_payload("opened"))
    await run_until_done(h)
    assert_posted_once(h)
