"""The worker's ``run_job``: route a job to its runner and turn failures into retry decisions."""

from __future__ import annotations

import structlog

from app.github.errors import GitHubError, RateLimited, ServerError
from app.jobs import Job, JobKind
from app.pipeline.deps import Deps
from app.pipeline.pr_review import PullRequestReview, review_pull_request
from app.queue.base import PermanentJobError, TransientJobError


class JobRunner:
    """Runs one job with the process's dependencies; the worker retries what is transient."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.log = structlog.get_logger("archbot.runner")

    async def run(self, job: Job) -> None:
        try:
            await self._dispatch(job)
        except RateLimited as exc:
            raise TransientJobError(f"GitHub rate limit: {exc}", retry_after=exc.retry_after) from exc
        except ServerError as exc:
            raise TransientJobError(f"GitHub unavailable: {exc}") from exc
        except GitHubError as exc:  # 401 after a token refresh, 403, 404, 422: no retry can fix it
            raise PermanentJobError(f"GitHub answered {exc.status}: {exc}") from exc

    async def give_up(self, job: Job, reason: str) -> None:
        """The worker's final-failure hook: a PR review that will not run says so on GitHub."""
        if job.kind is JobKind.REVIEW_PR:
            await PullRequestReview(self.deps, job).give_up(reason)

    async def _dispatch(self, job: Job) -> None:
        if job.kind is JobKind.REVIEW_PR:
            report = await review_pull_request(self.deps, job)
            outcome = "skipped" if report.skipped else (report.conclusion or "done")
            self.deps.metrics.reviews.labels(outcome=outcome).inc()
            return
        from app.pipeline.issue_jobs import run_command, run_issue_review

        if job.kind is JobKind.REVIEW_ISSUE:
            await run_issue_review(self.deps, job)
        elif job.kind is JobKind.COMMAND:
            await run_command(self.deps, job)
        elif job.kind is JobKind.THREAD_REPLY:
            from app.pipeline.thread_jobs import run_thread_reply

            await run_thread_reply(self.deps, job)
        else:  # pragma: no cover - JobKind is closed
            raise PermanentJobError(f"unknown job kind {job.kind}")
