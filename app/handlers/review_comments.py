"""pull_request_review_comment created -> a thread-reply job when a person asks a question in a thread.

Only new replies count (an edit never re-answers); bots and apps, archbot included, are ignored; a
dismissal ("won't fix", "by design", "false positive") is left to the next review and gets no answer.
Whether the thread is archbot's own and whether the person may ask is decided by the worker from
the API, never from the payload.
"""

from __future__ import annotations

import re

from app.events import Event
from app.jobs import Job, JobKind
from app.pipeline.ownership import DISMISSAL
from app.routing import HandlerContext, Router

ASK = re.compile(r"^\s*/ask\b", re.IGNORECASE)
MAX_QUESTION_CHARS = 4_000


def is_question(body: str | None) -> bool:
    """A reply archbot answers: it starts with ``/ask`` or ends with ``?``, and is not a dismissal."""
    text = (body or "").strip()
    if not text or DISMISSAL.search(text):
        return False
    return bool(ASK.match(text)) or text.endswith("?")


async def on_review_comment(event: Event, ctx: HandlerContext) -> list[Job]:
    comment, pr, repo = event.comment, event.pull_request, event.repository
    if comment is None or pr is None or repo is None or comment.in_reply_to_id is None:
        return []
    if comment.user.is_bot or comment.performed_via_github_app is not None or pr.state != "open":
        return []
    if not is_question(comment.body):
        return []
    return [
        Job(
            kind=JobKind.THREAD_REPLY,
            repo=repo.full_name,
            number=pr.number,
            installation_id=event.installation.id if event.installation else None,
            head_sha=pr.head.sha or None,
            delivery_id=ctx.delivery_id,
            comment_id=comment.id,
            data={
                "login": comment.user.login,
                "in_reply_to": comment.in_reply_to_id,
                "path": comment.path or "",
                "body": (comment.body or "")[:MAX_QUESTION_CHARS],
            },
        )
    ]


def router() -> Router:
    r = Router()
    r.register("pull_request_review_comment", "created")(on_review_comment)
    return r
