"""Automatic PR reviews end to end: signed pull_request webhooks -> queue -> worker -> fake GitHub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from app.github.client import GitHubFactory
from app.pipeline.runner import JobRunner
from app.review.markers import parse_marker
from app.worker import Worker
from tests.e2e import BASE, INSTALLATION, PRS, REPO, SHA1, SHA2, SHA3, Harness, make_harness, pr_payload
from tests.fakegithub import ACTIONS_TOKEN, FakeGitHub

DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
DIFF_V2 = (PRS / "ranking-v2.patch").read_text()
INCREMENT = (PRS / "increment-v2.patch").read_text()
FILE_V1 = (PRS / "inference_v1.py").read_text()
BATCH = (PRS / "batch.py").read_text()

GATHER = {
    "path": "service/inference.py",
    "line": 41,
    "side": "RIGHT",
    "severity": "medium",
    "category": "concurrency",
    "title": "Fire-and-forget cache warm-up",
    "rationale": "The task is not kept; keep a reference.",
    "static_rule": "ARCH102",
}
LEAK = {
    "path": "service/inference.py",
    "line": 36,
    "side": "RIGHT",
    "severity": "high",
    "category": "security",
    "title": "Raw request body logged",
    "rationale": "Logging `req.model_dump()` leaks user data into logs. cc @octocat ![x](http://evil/x.png)",
}
OFF_DIFF = {
    "path": "service/inference.py",
    "line": 10,
    "side": "LEFT",
    "severity": "low",
    "category": "design",
    "title": "Module docstring is vague",
    "rationale": "Say what the service owns.",
}
UNKNOWN_FILE = {
    "path": "service/other.py",
    "line": 5,
    "side": "RIGHT",
    "severity": "low",
    "category": "maintainability",
    "title": "Helper belongs elsewhere",
    "rationale": "Move it.",
}


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    harness.fake.add_pr(
        REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1}
    )
    harness.model.script(
        "submit_review", {"summary": "Adds I/O to the hot path.", "findings": [GATHER, LEAK, OFF_DIFF, UNKNOWN_FILE]}
    )
    yield harness
    await harness.close()


def own_summaries(h: Harness) -> list[Any]:
    return [c for c in h.comments() if parse_marker(c.body, "summary") is not None]


def commentable(diff_file_lines: dict[str, set[int]], comment: dict[str, Any]) -> bool:
    return comment["line"] in diff_file_lines.get(comment["path"], set())


async def test_opened_pr_gets_one_comment_review_summary_and_check_run(h: Harness) -> None:
    before = len(h.fake.requests)  # GET /app at startup
    assert (await h.deliver("pull_request", pr_payload("opened"))).status_code == 202
    assert len(h.fake.requests) == before  # nothing talks to GitHub before the answer
    assert await h.drain() == 1

    reviews = h.reviews()
    assert len(reviews) == 1
    review = reviews[0]
    assert review.event == "COMMENT" and review.commit_id == SHA1
    paths_lines = {(c["path"], c["line"]) for c in review.comments}
    assert ("service/inference.py", 36) in paths_lines and ("service/inference.py", 41) in paths_lines
    assert all(c["path"] == "service/inference.py" for c in review.comments)  # unknown file never inline
    assert all(c["side"] == "RIGHT" for c in review.comments)
    leak = next(c for c in review.comments if c["line"] == 36)
    assert "@octocat" not in leak["body"] and "evil" not in leak["body"] and "![" not in leak["body"]

    [summary] = own_summaries(h)
    assert summary.author.login == "archbot[bot]"
    marker = parse_marker(summary.body, "summary")
    assert marker is not None and marker["sha"] == SHA1 and marker["done"] is True
    assert "Helper belongs elsewhere" in summary.body  # not placed inline, kept in the summary
    assert "Module docstring is vague" in summary.body

    [run] = h.fake.check_runs(REPO)
    assert run.head_sha == SHA1 and run.status == "completed" and run.conclusion == "neutral"
    assert {a["path"] for a in run.annotations} >= {"service/inference.py"}
    # static findings are deterministic and marked so; the model confirmed ARCH102
    assert any("ARCH102" in c["body"] for c in review.comments)


async def test_redelivery_posts_nothing_twice(h: Harness) -> None:
    payload = pr_payload("opened")
    await h.deliver("pull_request", payload, delivery="d-1")
    await h.deliver("pull_request", payload, delivery="d-1")
    await h.drain()
    assert h.deliveries[1].json()["duplicate"] is True
    assert len(h.reviews()) == 1 and len(own_summaries(h)) == 1
    assert len(h.model.calls("submit_review")) == 1


async def test_second_identical_job_after_completion_is_a_no_op(h: Harness) -> None:
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    await h.deliver("pull_request", pr_payload("reopened"))  # same head sha, new delivery
    await h.drain()
    assert len(h.reviews()) == 1
    assert len(h.model.calls("submit_review")) == 1


async def test_incremental_push_reviews_only_new_commits_and_edits_the_summary(h: Harness) -> None:
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    h.fake.push(
        REPO, 7, head_sha=SHA2, diff=DIFF_V2, head_files={"service/inference.py": FILE_V1, "service/batch.py": BATCH}
    )
    h.fake.set_compare(REPO, SHA1, SHA2, INCREMENT)
    h.model.script(
        "submit_review",
        {
            "summary": "Adds a batch export.",
            "findings": [
                LEAK,  # already posted: same fingerprint, must not be posted again
                {
                    "path": "service/batch.py",
                    "line": 7,
                    "side": "RIGHT",
                    "severity": "high",
                    "category": "concurrency",
                    "title": "Blocking subprocess in async def",
                    "rationale": "Use asyncio.create_subprocess_exec.",
                },
            ],
        },
    )
    await h.deliver("pull_request", pr_payload("synchronize", sha=SHA2))
    await h.drain()

    second_prompt = h.model.calls("submit_review")[-1]["messages"][0]["content"]
    text = second_prompt if isinstance(second_prompt, str) else " ".join(b.get("text", "") for b in second_prompt)
    assert "service/batch.py" in text and "service/inference.py" not in text.split('untrusted-data source="diff"')[-1]

    reviews = h.reviews()
    assert len(reviews) == 2
    new = reviews[1]
    assert new.commit_id == SHA2 and new.event == "COMMENT"
    assert {c["path"] for c in new.comments} == {"service/batch.py"}
    summaries = own_summaries(h)
    assert len(summaries) == 1  # edited in place, not duplicated
    marker = parse_marker(summaries[0].body, "summary")
    assert marker is not None and marker["sha"] == SHA2
    assert [r.head_sha for r in h.fake.check_runs(REPO)] == [SHA1, SHA2]


async def test_force_push_reviews_everything_again_without_reposting(h: Harness) -> None:
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    h.fake.push(REPO, 7, head_sha=SHA3, diff=DIFF_V1, head_files={"service/inference.py": FILE_V1}, force=True)
    await h.deliver("pull_request", pr_payload("synchronize", sha=SHA3))
    await h.drain()
    prompt = str(h.model.calls("submit_review")[-1]["messages"])
    assert "service/inference.py" in prompt  # full review: the old sha is gone
    assert len(h.reviews()) == 1  # the same findings moved to a new sha: nothing new to post
    marker = parse_marker(own_summaries(h)[0].body, "summary")
    assert marker is not None and marker["sha"] == SHA3


async def test_crash_after_review_before_summary_does_not_post_twice(h: Harness) -> None:
    h.fake.fail_next("POST", r"/issues/7/comments$", status=502)  # the summary write dies
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    assert len(h.reviews()) == 1 and own_summaries(h) == []
    h.clock.now += 3600  # past the retry backoff
    await h.drain()
    assert len(h.reviews()) == 1  # the marker in its inline comments says: already posted
    assert len(own_summaries(h)) == 1


async def test_422_moves_comments_into_a_body_only_review(h: Harness) -> None:
    h.fake.fail_next(
        "POST",
        r"/pulls/7/reviews$",
        status=422,
        json={
            "message": "Unprocessable Entity",
            "errors": ["Pull request review thread line must be part of the diff"],
        },
    )
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    [review] = h.reviews()
    assert review.comments == [] and "could not place" in review.body
    assert review.event == "COMMENT"
    assert len(own_summaries(h)) == 1


async def test_too_large_diff_falls_back_to_the_files_list(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path, fake=FakeGitHub(max_diff_files=1))
    harness.fake.add_pr(
        REPO,
        7,
        diff=DIFF_V2,
        head_sha=SHA1,
        base_sha=BASE,
        head_files={"service/inference.py": FILE_V1, "service/batch.py": BATCH},
    )
    harness.model.script("submit_review", {"summary": "ok", "findings": [GATHER]})
    await harness.deliver("pull_request", pr_payload("opened"))
    await harness.drain()
    assert harness.fake.count("GET", r"/pulls/7/files") >= 1
    [review] = harness.reviews()
    assert [c["line"] for c in review.comments if c["path"] == "service/inference.py"]
    await harness.close()


async def test_drafts_and_disabled_reviews_are_skipped(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path, config="review:\n  drafts: false\n")
    harness.fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, draft=True)
    await harness.deliver("pull_request", pr_payload("opened"))
    await harness.drain()
    assert harness.reviews() == [] and harness.fake.check_runs(REPO) == []
    assert harness.model.requests == []
    await harness.close()


async def test_bot_authored_pr_makes_no_job(h: Harness) -> None:
    await h.deliver("pull_request", pr_payload("opened", user_type="Bot"))
    assert await h.drain() == 0
    assert [r.path for r in h.fake.requests] == ["/app"]


async def test_threshold_fails_the_check_and_invalid_config_is_explained(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path, config="review:\n  severity_threshold: high\n")
    harness.fake.add_pr(
        REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1}
    )
    harness.model.script("submit_review", {"summary": "x", "findings": [LEAK]})
    await harness.deliver("pull_request", pr_payload("opened"))
    await harness.drain()
    assert harness.fake.check_runs(REPO)[0].conclusion == "failure"
    await harness.close()

    bad = await make_harness(tmp_path / "bad", config="review: [not, a, mapping]\n")
    bad.fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1})
    await bad.deliver("pull_request", pr_payload("opened"))
    await bad.drain()
    [summary] = [c for c in bad.comments() if parse_marker(c.body, "summary")]
    assert "is invalid" in summary.body and bad.fake.check_runs(REPO)[0].conclusion == "neutral"
    await bad.close()


async def test_model_outage_ends_with_not_reviewed_check_and_retry_hint(h: Harness) -> None:
    h.model.fail_with = [(529, {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, {})] * 5
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    [run] = h.fake.check_runs(REPO)
    assert run.conclusion == "skipped" and (run.title or "").startswith("Not reviewed")
    [summary] = own_summaries(h)
    assert "/review" in summary.body
    # the deterministic findings still stand and are posted; nothing from the model
    [review] = h.reviews()
    assert review.comments and all('"srcs":["static"' in c["body"] for c in review.comments)
    assert all('"model"' not in c["body"].split("archbot:finding")[-1] for c in review.comments)


async def test_human_resolved_or_wont_fix_thread_is_not_reposted_and_gone_findings_are_resolved(h: Harness) -> None:
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    threads = h.fake.threads(REPO, 7)
    leak_thread = next(t for t in threads if t.line == 36)
    h.fake.reply_to_thread(REPO, 7, leak_thread.id, "This is by design, won't fix.")
    # force-push: the leak finding comes back (dismissed: not posted again); the fire-and-forget is fixed
    h.fake.push(REPO, 7, head_sha=SHA3, diff=DIFF_V1, head_files={"service/inference.py": FILE_V1}, force=True)
    h.model.script("submit_review", {"summary": "again", "findings": [LEAK]})
    await h.deliver("pull_request", pr_payload("synchronize", sha=SHA3))
    await h.drain()
    assert len(h.reviews()) == 1
    gather_thread = next(t for t in h.fake.threads(REPO, 7) if t.line == 41)
    # the static ARCH102 finding still exists at line 41, so its thread stays open
    assert gather_thread.is_resolved is False
    assert next(t for t in h.fake.threads(REPO, 7) if t.line == 36).is_resolved is False  # human replied


async def open_then_push(harness: Harness) -> None:
    """A PR opened at SHA1 and reviewed, then a second commit (SHA2) pushed and reviewed."""
    harness.fake.add_pr(
        REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1}
    )
    await harness.deliver("pull_request", pr_payload("opened"))
    await harness.drain()
    harness.fake.push(
        REPO, 7, head_sha=SHA2, diff=DIFF_V2, head_files={"service/inference.py": FILE_V1, "service/batch.py": BATCH}
    )
    harness.fake.set_compare(REPO, SHA1, SHA2, INCREMENT)
    await harness.deliver("pull_request", pr_payload("synchronize", sha=SHA2))
    await harness.drain()


async def test_pr_token_budget_skips_the_model_and_says_so(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path, archbot_pr_token_budget=1)
    await open_then_push(harness)
    assert len(harness.model.calls("submit_review")) == 1  # the second push stayed within the cap
    second = harness.fake.check_runs(REPO)[-1]
    assert second.conclusion == "skipped" and (second.title or "").startswith("skipped: budget")
    assert any(c["path"] == "service/batch.py" for r in harness.reviews() for c in r.comments)  # static still posts
    await harness.close()


async def test_findings_on_one_line_share_one_comment(h: Harness) -> None:
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    [review] = h.reviews()
    anchors = [(c["path"], c["line"], c["side"]) for c in review.comments]
    assert len(anchors) == len(set(anchors))
    line_42 = next(c for c in review.comments if c["line"] == 42)
    assert line_42["body"].count("---") >= 1  # pickle + blocking call + no timeout, in one comment


async def test_threads_whose_finding_is_gone_are_resolved_not_deleted(h: Harness) -> None:
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    h.fake.push(REPO, 7, head_sha=SHA3, diff=DIFF_V1, head_files={"service/inference.py": FILE_V1}, force=True)
    h.model.script("submit_review", {"summary": "fixed", "findings": []})  # the model's findings are gone
    await h.deliver("pull_request", pr_payload("synchronize", sha=SHA3))
    await h.drain()
    threads = {t.line: t for t in h.fake.threads(REPO, 7)}
    assert threads[36].is_resolved is True  # model-only finding, gone now
    assert threads[42].is_resolved is False  # deterministic findings still there
    assert len(h.fake.threads(REPO, 7)) == len(threads)  # nothing deleted


class DieAfterReview(httpx.AsyncBaseTransport):
    """The job dies right after GitHub accepted the review, before the summary is written, and its
    lease is never released (as when the process is killed)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.died = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/pulls/7/reviews"):
            self.died.set()
            await asyncio.Event().wait()  # hangs forever: no further request leaves this "process"
        return response


async def test_worker_restart_between_model_answer_and_posting(tmp_path: Path) -> None:
    fake = FakeGitHub()
    dying = DieAfterReview(fake.transport())
    first = await make_harness(tmp_path, fake=fake, transport=dying)
    fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1})
    first.model.script("submit_review", {"summary": "x", "findings": [LEAK]})
    await first.deliver("pull_request", pr_payload("opened"))
    running = asyncio.create_task(first.worker.run(asyncio.Event()))
    await dying.died.wait()
    assert len(first.reviews()) == 1 and own_summaries(first) == []
    record = await first.queue.find(f"review_pr:{REPO}#7@{SHA1}:incr")
    assert record is not None and record.state == "running"

    # a new process on the same store: new queue object, new GitHub client, new worker; the dead
    # worker's lease expires and the job is leased again
    second = await make_harness(tmp_path, fake=fake)
    second.clock.now += 3600
    second.model.script("submit_review", {"summary": "x", "findings": [LEAK]})
    assert [(r.head_sha, r.status) for r in fake.check_runs(REPO)] == [(SHA1, "in_progress")]
    assert await second.drain() == 1
    assert len(second.reviews()) == 1  # not posted twice
    assert len(own_summaries(second)) == 1
    # the new process found the check run the dead one started (same pr_context query) and finished it
    [run] = fake.check_runs(REPO)
    assert (run.head_sha, run.status, run.conclusion) == (SHA1, "completed", "neutral")
    # each run: the PR context, then the review context (the modules service/inference.py imports)
    contexts = ["query ArchbotPullRequestContext", "query ArchbotReviewContext"]
    assert [r.graphql for r in fake.requests if r.graphql] == contexts * 2
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await second.close()
    await first.close()


async def test_give_up_in_a_new_process_completes_the_dead_workers_check_run(tmp_path: Path) -> None:
    fake = FakeGitHub()
    dying = DieAfterReview(fake.transport())
    first = await make_harness(tmp_path, fake=fake, transport=dying)
    fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1})
    first.model.script("submit_review", {"summary": "x", "findings": [LEAK]})
    await first.deliver("pull_request", pr_payload("opened"))
    running = asyncio.create_task(first.worker.run(asyncio.Event()))
    await dying.died.wait()

    # the restarted process has no attempts left for the job: it only says so, on the same check run
    second = await make_harness(tmp_path, fake=fake)
    second.clock.now += 3600
    runner = JobRunner(second.deps)
    worker = Worker(second.queue, runner.run, poll_interval=0.01, max_attempts=1, on_give_up=runner.give_up)
    assert await worker.drain() == 1
    [run] = fake.check_runs(REPO)
    assert (run.head_sha, run.status, run.conclusion) == (SHA1, "completed", "skipped")
    assert (run.title or "").startswith("Not reviewed: gave up after 1 attempts")
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await second.close()
    await first.close()


async def test_only_archbots_own_unfinished_check_run_is_taken_over(h: Harness) -> None:
    # an "archbot" run of another App (here the Actions token's) and a completed one of archbot's own
    actions = GitHubFactory(api_url="http://gh.test", token=ACTIONS_TOKEN, async_transport=h.fake.transport())
    foreign = await actions.repo_api(*REPO.split("/")).create_check_run(name="archbot", head_sha=SHA1)
    own = h.deps.factory.repo_api(*REPO.split("/"), installation_id=INSTALLATION)
    done = await own.create_check_run(name="archbot", head_sha=SHA1)
    await own.update_check_run(done, conclusion="neutral", title="t", summary="s")
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    runs = {r.id: r for r in h.fake.check_runs(REPO)}
    assert len(runs) == 3  # archbot started a new one
    assert runs[foreign].status == "in_progress" and runs[foreign].requests == 1  # untouched
    assert runs[done].requests == 2
    [new] = [r for r in runs.values() if r.id not in (foreign, done)]
    assert (new.status, new.app) == ("completed", h.fake.bot.app)


async def test_reviews_per_pr_per_hour_cap(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path, archbot_reviews_per_pr_per_hour=1)
    await open_then_push(harness)
    assert len(harness.model.calls("submit_review")) == 1
    assert "per pull request per hour" in (harness.fake.check_runs(REPO)[-1].title or "")
    harness.clock.now += 3601  # an hour later the model reviews again
    harness.fake.push(
        REPO,
        7,
        head_sha=SHA3,
        diff=DIFF_V2,
        head_files={"service/inference.py": FILE_V1, "service/batch.py": BATCH},
        force=True,
    )
    await harness.deliver("pull_request", pr_payload("synchronize", sha=SHA3))
    await harness.drain()
    assert len(harness.model.calls("submit_review")) >= 2
    await harness.close()


async def reviewed_once(tmp_path: Path, fake: FakeGitHub) -> Harness:
    """An opened PR reviewed by one worker pass against ``fake``."""
    harness = await make_harness(tmp_path, fake=fake)
    fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1})
    harness.model.script("submit_review", {"summary": "x", "findings": [LEAK]})
    assert (await harness.deliver("pull_request", pr_payload("opened"))).status_code == 202
    assert await harness.drain() == 1
    return harness


@pytest.mark.parametrize(
    ("older_github", "reason"),
    [
        ({"schema_without": ["Commit.checkSuites"]}, "undefined_field"),  # an older GitHub Enterprise Server
        ({"schema_forbidden": ["Commit.checkSuites"]}, "forbidden"),  # an App without the checks permission
    ],
)
async def test_review_goes_on_when_github_refuses_the_check_run_lookup(
    tmp_path_factory: pytest.TempPathFactory, older_github: dict[str, Any], reason: str
) -> None:
    usual = await reviewed_once(tmp_path_factory.mktemp("usual"), FakeGitHub())
    with structlog.testing.capture_logs() as logs:
        h = await reviewed_once(tmp_path_factory.mktemp("older"), FakeGitHub(**older_github))
    # the review, the summary and the check run are all posted, as usual
    assert len(h.reviews()) == 1 and len(own_summaries(h)) == 1
    [run] = h.fake.check_runs(REPO)
    assert (run.head_sha, run.status, run.conclusion) == (SHA1, "completed", "neutral")
    # one more GraphQL query than usual (the same query without the check-run lookup), nothing else
    queries = [r.graphql for r in h.fake.requests if r.graphql]
    review_context = "query ArchbotReviewContext"  # the modules the changed file imports
    assert [r.graphql for r in usual.fake.requests if r.graphql] == ["query ArchbotPullRequestContext", review_context]
    assert queries == ["query ArchbotPullRequestContext"] * 2 + [review_context]
    assert h.fake.count() == usual.fake.count() + 1
    # noted once in the log and in the metrics
    events = [e for e in logs if e["event"] == "github_context_degraded"]
    assert [(e["part"], e["reason"], e["log_level"]) for e in events] == [("check_runs", reason, "warning")]
    metric = h.deps.metrics.registry.get_sample_value(
        "archbot_github_degraded_total", {"part": "check_runs", "reason": reason}
    )
    assert metric == 1.0
    assert (
        usual.deps.metrics.registry.get_sample_value(
            "archbot_github_degraded_total", {"part": "check_runs", "reason": reason}
        )
        is None
    )
    await usual.close()
    await h.close()
