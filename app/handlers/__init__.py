"""Thin webhook handlers, one module per concern; ``build_router`` merges them in one place."""

from __future__ import annotations

from app.handlers import commands, issues, pull_request, review_comments
from app.routing import Router


def build_router() -> Router:
    """The one router of the process, used by the webhook receiver and by the Action alike."""
    return Router.merged([pull_request.router(), issues.router(), commands.router(), review_comments.router()])
