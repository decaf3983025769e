"""``kill -9`` of a real ``archbot serve`` mid-job, then a restart on the same store: the interrupted job
resumes within 30 s (the new process sees its predecessor is dead and takes its leases back, instead of
waiting out the 5-minute lease) and nothing is posted twice.

The fake GitHub APPLIES the held write and holds only its answer, so the killed process never learns that
its review, summary or comment went through: the hardest case for exactly-once posting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.review.markers import parse_marker
from tests.e2e import BASE, INSTALLATION, PRS, REPO, SHA1, pr_payload
from tests.fakegithub import FakeGitHub, app_private_key, serve_fake
from tests.fakemodel import DESIGN_REVIEW, PLAN, FakeModel, serve_model
from tests.serve_process import Serve, job_states, serve_env, wait_until
from tests.test_e2e_issues import comment_payload, issue_payload

pytestmark = pytest.mark.slow

RESUME_WITHIN = 30.0  # the issue's bound; the lease is 300 s
HOLD = 6.0  # long enough to kill the server while the fake holds its answer
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
PR_KEY = f"review_pr:{REPO}#7@{SHA1}:incr"


@dataclass
class World:
    fake: FakeGitHub
    model: FakeModel
    env: dict[str, str]
    db: Path
    workdir: Path
    servers: list[Serve]

    def start(self) -> Serve:
        server = Serve(self.env, self.workdir, name=f"serve-{len(self.servers)}")
        self.servers.append(server)
        server.wait_healthy()
        return server

    def bot_comments(self, number: int) -> list[Any]:
        return [c for c in self.fake.comments(REPO, number) if c.author.login == self.fake.bot.login]

    def done(self, key_prefix: str) -> bool:
        states = [s for k, s in job_states(self.db).items() if k.startswith(key_prefix)]
        return bool(states) and all(s in ("done", "failed", "superseded") for s in states)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    key = app_private_key()
    fake = FakeGitHub(app_id=4242, slug="archbot", private_key=key)
    fake.add_installation(INSTALLATION)
    fake.add_repo(REPO)
    fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1})
    fake.add_issue(REPO, 12, title="Upload processing", body="Process uploads with a model.", labels=["design-doc"])
    fake.set_permission(REPO, "alice", "write")
    model = FakeModel()
    model.script("submit_review", {"summary": "Logs user data.", "findings": [LEAK]})
    model.script("submit_design_review", DESIGN_REVIEW)
    model.script("submit_plan", PLAN)
    db = tmp_path / "archbot.db"
    servers: list[Serve] = []
    with serve_fake(fake) as github_url, serve_model(model) as model_url:
        env = serve_env(app_id=4242, private_key=key, github_url=github_url, db=db, model_url=model_url)
        yield World(fake, model, env, db, tmp_path, servers)
        for server in servers:
            server.kill9()


def crash_and_resume(world: World, *, kill_when: Any, what: str, job: str) -> float:
    """Wait for ``kill_when()``, ``kill -9`` the server, start a new one; seconds until ``job`` finished."""
    first = world.servers[-1]
    wait_until(kill_when, 60.0, what, first)
    first.kill9()
    assert not world.done(job), job_states(world.db)  # the job was interrupted, its lease still "held"
    second = world.start()
    took = wait_until(lambda: world.done(job), RESUME_WITHIN, f"{job} resumed after the restart", second)
    assert "job.reclaimed" in second.stderr()
    return took


def assert_pr_posted_once(world: World) -> None:
    assert job_states(world.db)[PR_KEY] == "done"
    [review] = world.fake.reviews(REPO, 7)
    assert review.event == "COMMENT"
    summaries = [c for c in world.bot_comments(7) if parse_marker(c.body, "summary") is not None]
    assert len(summaries) == 1 and len(world.bot_comments(7)) == 1
    runs = [r for r in world.fake.check_runs(REPO) if r.head_sha == SHA1]
    assert [(r.status, r.conclusion) for r in runs] == [("completed", "neutral")]


def test_kill9_while_github_holds_the_review_post(world: World) -> None:
    world.fake.hold_next("POST", r"/pulls/7/reviews$", HOLD)
    server = world.start()
    assert server.deliver("pull_request", pr_payload("opened")).status_code == 202
    crash_and_resume(
        world, kill_when=lambda: world.fake.held == 1, what="the review POST held after the model answered", job=PR_KEY
    )
    assert world.model.calls("submit_review")  # the model had answered before the kill
    assert_pr_posted_once(world)


def test_kill9_between_the_review_and_the_summary(world: World) -> None:
    world.fake.hold_next("POST", r"/issues/7/comments$", HOLD)
    server = world.start()
    assert server.deliver("pull_request", pr_payload("opened")).status_code == 202
    crash_and_resume(world, kill_when=lambda: world.fake.held == 1, what="the summary POST held", job=PR_KEY)
    assert_pr_posted_once(world)


def test_kill9_during_a_design_review_model_call(world: World) -> None:
    world.model.latency = 3.0
    server = world.start()
    assert server.deliver("issues", issue_payload("labeled")).status_code == 202
    crash_and_resume(
        world, kill_when=lambda: world.model.in_flight == 1, what="the design review's model call", job="review_issue"
    )
    [comment] = world.bot_comments(12)
    assert parse_marker(comment.body, "design") == {"state": "reviewed"}


def test_kill9_while_github_holds_the_design_review_post(world: World) -> None:
    world.fake.hold_next("POST", r"/issues/12/comments$", HOLD)
    server = world.start()
    assert server.deliver("issues", issue_payload("labeled")).status_code == 202
    crash_and_resume(world, kill_when=lambda: world.fake.held == 1, what="the design review POST", job="review_issue")
    [comment] = world.bot_comments(12)
    assert parse_marker(comment.body, "design") == {"state": "reviewed"}


def test_kill9_during_plan_posts_exactly_one_plan(world: World) -> None:
    comment_id = world.fake.add_comment(REPO, 12, "/plan --now", author="alice")
    world.fake.hold_next("POST", r"/issues/12/comments$", HOLD)
    server = world.start()
    payload = comment_payload("/plan --now", comment_id=comment_id)
    assert server.deliver("issue_comment", payload).status_code == 202
    crash_and_resume(world, kill_when=lambda: world.fake.held == 1, what="the plan POST", job="command")
    [plan] = world.bot_comments(12)
    assert parse_marker(plan.body, "plan") == {"state": "plan"}
