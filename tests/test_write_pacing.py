"""Writes of one installation stay at least a second apart ACROSS concurrent jobs, where GitHub sees them,
through a secondary rate limit (403 with ``retry-after``) and a 502 on writes; each review still completes
and nothing is posted twice. Real clocks: the fake GitHub timestamps every request as it arrives and
answers each 0.2 s later (token exchanges included, which is what used to squeeze two writes to 0.8 s)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from pathlib import Path

import httpx
import pytest

from app.github.client import GitHubFactory
from app.handlers import build_router
from app.metrics import Metrics
from app.pipeline.deps import Deps
from app.pipeline.runner import JobRunner
from app.queue.sqlite import SQLiteJobQueue
from app.review.markers import parse_marker
from app.web import WebhookConfig, create_app
from app.worker import Worker
from tests.e2e import BASE, INSTALLATION, PRS, REPO, SHA1, SHA2, pr_payload, settings
from tests.fakegithub import FakeGitHub, LoggedRequest
from tests.fakemodel import FakeModel
from tests.webhook_helpers import SECRET, signed_headers

pytestmark = pytest.mark.slow

MIN_GAP = 1.0
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
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def is_write(request: LoggedRequest) -> bool:
    if request.token_exchange or request.method not in WRITE_METHODS:
        return False
    return request.path != "/graphql" or (request.graphql or "").startswith("mutation")


def gaps(requests: list[LoggedRequest]) -> list[float]:
    times = sorted(r.at for r in requests)
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_writes_of_one_installation_stay_a_second_apart_across_jobs(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.add_installation(INSTALLATION)
    fake.add_repo(REPO)
    heads = {7: SHA1, 8: SHA2}
    for number, sha in heads.items():
        fake.add_pr(
            REPO, number, diff=DIFF_V1, head_sha=sha, base_sha=BASE, head_files={"service/inference.py": FILE_V1}
        )
    fake.latency = 0.2
    fake.fail_next("POST", r"/pulls/7/reviews$", status=403, headers={"retry-after": "1"})  # secondary limit
    fake.fail_next("POST", r"/issues/8/comments$", status=502)
    fake.fail_next("PATCH", r"/check-runs/\d+$", status=502)
    model = FakeModel()
    model.script("submit_review", {"summary": "Logs user data.", "findings": [LEAK]})
    queue = SQLiteJobQueue(f"sqlite:///{tmp_path / 'archbot.db'}")
    factory = GitHubFactory(
        api_url="http://gh.test",
        app_id=fake.app_id,
        private_key=fake.private_key,
        async_transport=fake.transport(),
    )  # the default write interval
    deps = Deps(settings=settings(), factory=factory, identity=await factory.identify(), models=model.provider())
    app = create_app(
        config=WebhookConfig(secrets=(SECRET,), max_body_bytes=1 << 20),
        store=queue,
        router=build_router(),
        metrics=Metrics(),
    )
    runner = JobRunner(deps)
    worker = Worker(queue, runner.run, concurrency=2, poll_interval=0.05, base_backoff=0.2, max_backoff=1.0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://archbot.test") as client:
            for number, sha in heads.items():
                body = json.dumps(pr_payload("opened", number=number, sha=sha)).encode()
                r = await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
                assert r.status_code == 202
        deadline = time.monotonic() + 90
        while (await queue.counts())["done"] < 2:
            assert time.monotonic() < deadline, await queue.counts()
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await queue.close()

    for number, sha in heads.items():
        assert len(fake.reviews(REPO, number)) == 1, number
        summaries = [c for c in fake.comments(REPO, number) if parse_marker(c.body, "summary") is not None]
        assert len(summaries) == 1, number
        runs = [r for r in fake.check_runs(REPO) if r.head_sha == sha]
        assert [r.status for r in runs] == ["completed"], number
    writes = [r for r in fake.requests if is_write(r)]
    assert len(writes) >= 11  # 2 x (check run, review, summary, check update) + the 3 refused attempts
    assert [r.status for r in writes].count(403) == 1 and [r.status for r in writes].count(502) == 2
    spacing = gaps(writes)
    assert min(spacing) >= MIN_GAP, f"writes {min(spacing):.3f} s apart: {[round(g, 3) for g in spacing]}"
