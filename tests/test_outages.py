"""GitHub or the model unreachable: deliveries are still acknowledged at once (the receiver only writes to
the store), jobs wait and retry with backoff instead of failing, and once GitHub answers again every job
finishes exactly once. The model unreachable ends, after the client's own retries, in the review's
"not reviewed by the model" path: the deterministic findings are posted, the check says so, ``/review``
retries."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import httpx2

from app.review.markers import parse_marker
from tests.e2e import BASE, PRS, REPO, make_harness, pr_payload
from tests.fakegithub import FakeGitHub

DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
FILE_V1 = (PRS / "inference_v1.py").read_text()
PRS_DOWN = 10


class Unreachable(httpx.AsyncBaseTransport):
    """GitHub behind a network that refuses every connection while ``down``."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


def _sha(number: int) -> str:
    return f"{number:040x}"


async def test_github_unreachable_acks_fast_jobs_retry_then_finish_once(tmp_path: Path) -> None:
    fake = FakeGitHub()
    network = Unreachable(fake.transport())
    h = await make_harness(tmp_path, fake=fake, transport=network)
    try:
        for number in range(1, PRS_DOWN + 1):
            fake.add_pr(
                REPO, number, diff=DIFF_V1, head_sha=_sha(number), base_sha=BASE, head_files={"service/x.py": FILE_V1}
            )
        network.down = True
        started = time.monotonic()
        for number in range(1, PRS_DOWN + 1):
            r = await h.deliver("pull_request", pr_payload("opened", number=number, sha=_sha(number)))
            assert r.status_code == 202
        assert time.monotonic() - started < 5.0  # ten acks, none waited for GitHub
        assert await h.drain() == PRS_DOWN
        counts = await h.queue.counts()
        assert counts["queued"] == PRS_DOWN and counts["failed"] == 0, counts  # waiting to retry, not failed
        assert network.refused >= PRS_DOWN
        record = await h.queue.find(f"review_pr:{REPO}#1@{_sha(1)}:incr")
        assert record is not None and record.attempts == 1 and record.last_error
        assert "GitHub" in record.last_error

        network.down = False
        h.clock.now += 3600  # past the backoff
        assert await h.drain() == PRS_DOWN
        counts = await h.queue.counts()
        assert counts["done"] == PRS_DOWN, counts
        for number in range(1, PRS_DOWN + 1):
            summaries = [c for c in h.comments(number) if parse_marker(c.body, "summary") is not None]
            assert len(summaries) == 1
            runs = [r for r in fake.check_runs(REPO) if r.head_sha == _sha(number)]
            assert [r.status for r in runs] == ["completed"]
    finally:
        await h.close()


async def test_model_unreachable_acks_fast_and_says_not_reviewed(tmp_path: Path) -> None:
    h = await make_harness(tmp_path)
    try:
        h.fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=_sha(7), base_sha=BASE, head_files={"service/x.py": FILE_V1})
        calls = 0

        def refuse(request: httpx2.Request) -> httpx2.Response:
            nonlocal calls
            calls += 1
            raise httpx2.ConnectError("connection refused", request=request)

        h.model.handler = refuse  # type: ignore[method-assign]
        h.deps.models = h.model.provider()
        r = await h.deliver("pull_request", pr_payload("opened", sha=_sha(7)))
        assert r.status_code == 202
        await h.drain()
        assert calls >= 1
        [run] = h.fake.check_runs(REPO)
        assert run.status == "completed" and run.conclusion == "skipped"
        assert (run.title or "").startswith("Not reviewed by the model")
        [summary] = [c for c in h.comments(7) if parse_marker(c.body, "summary") is not None]
        assert "/review" in summary.body
    finally:
        await h.close()
