"""pull_request events -> a review job keyed by (repo, PR, head sha)."""

from __future__ import annotations

from app.events import Event
from app.jobs import Job, JobKind
from app.routing import HandlerContext, Router

REVIEW_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review")


async def review_on_push(event: Event, ctx: HandlerContext) -> list[Job]:
    """A new or updated PR gets a review job; bots' PRs are skipped (DESIGN: never noisy).

    Drafts are enqueued and decided by the worker, which reads the repository config (``review.drafts``)
    from the default branch: no GitHub call may happen before the webhook is answered.
    """
    pr, repo = event.pull_request, event.repository
    if pr is None or repo is None or not pr.head.sha or pr.state != "open":
        return []
    if pr.user.is_bot:
        return []
    return [
        Job(
            kind=JobKind.REVIEW_PR,
            repo=repo.full_name,
            number=pr.number,
            installation_id=event.installation.id if event.installation else None,
            head_sha=pr.head.sha,
            delivery_id=ctx.delivery_id,
            data={"action": event.action or "", "draft": pr.draft},
        )
    ]


def router() -> Router:
    r = Router()
    r.register("pull_request", *REVIEW_ACTIONS)(review_on_push)
    return r
