"""issue_comment created -> a command job for /plan, /review, /help and unknown /xyz.

Only new comments count (edits never re-trigger); bots and apps, archbot included, are ignored here.
Whether the commenter may run the command is asked from the API by the worker, never taken from
``author_association``.
"""

from __future__ import annotations

from app.commands import parse_command
from app.events import Event
from app.jobs import Job, JobKind
from app.routing import HandlerContext, Router


async def on_comment(event: Event, ctx: HandlerContext) -> list[Job]:
    comment, issue, repo = event.comment, event.issue, event.repository
    if comment is None or issue is None or repo is None:
        return []
    if comment.user.is_bot or comment.performed_via_github_app is not None:
        return []
    command = parse_command(comment.body)
    if command is None:
        return []
    return [
        Job(
            kind=JobKind.COMMAND,
            repo=repo.full_name,
            number=issue.number,
            installation_id=event.installation.id if event.installation else None,
            delivery_id=ctx.delivery_id,
            comment_id=comment.id,
            full=command.name == "review",
            data={
                "command": command.name,
                "args": list(command.args),
                "login": comment.user.login,
                "is_pr": issue.is_pull_request,
            },
        )
    ]


def router() -> Router:
    r = Router()
    r.register("issue_comment", "created")(on_comment)
    return r
