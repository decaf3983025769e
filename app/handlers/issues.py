"""issues events -> a design review job for issues that carry a label (the worker checks which)."""

from __future__ import annotations

from app.events import Event
from app.jobs import Job, JobKind
from app.routing import HandlerContext, Router


async def design_review(event: Event, ctx: HandlerContext) -> list[Job]:
    """Opened, edited or labeled issues with at least one label may be design docs.

    Which labels count is repository config (``design_docs.issue_labels``), read by the worker from
    the default branch; an issue with no label at all cannot qualify and makes no job.
    """
    issue, repo = event.issue, event.repository
    if issue is None or repo is None or issue.is_pull_request or issue.state != "open":
        return []
    if not issue.labels or (event.sender is not None and event.sender.is_bot):
        return []
    return [
        Job(
            kind=JobKind.REVIEW_ISSUE,
            repo=repo.full_name,
            number=issue.number,
            installation_id=event.installation.id if event.installation else None,
            delivery_id=ctx.delivery_id,
            data={"action": event.action or "", "labels": [label.name for label in issue.labels]},
        )
    ]


def router() -> Router:
    r = Router()
    r.register("issues", "opened", "edited", "labeled")(design_review)
    return r
