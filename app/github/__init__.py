"""The only code that talks to GitHub: client factory, per-repository API, pacing, errors, models."""

from app.github.api import RepoAPI
from app.github.client import ACTIONS_BOT_LOGIN, GitHubFactory
from app.github.errors import (
    Forbidden,
    GitHubError,
    GraphQLQueryError,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    Unprocessable,
)
from app.github.models import (
    AppIdentity,
    Degradation,
    IssueComment,
    IssueInfo,
    PRContext,
    PullRequestReview,
    ReviewThread,
    ThreadComment,
)
from app.github.pacing import ReadRetry, RetryPolicy, WritePacer

__all__ = [
    "ACTIONS_BOT_LOGIN",
    "AppIdentity",
    "Degradation",
    "Forbidden",
    "GitHubError",
    "GitHubFactory",
    "GraphQLQueryError",
    "IssueComment",
    "IssueInfo",
    "NotFound",
    "PRContext",
    "PullRequestReview",
    "RateLimited",
    "ReadRetry",
    "RepoAPI",
    "RetryPolicy",
    "ReviewThread",
    "ServerError",
    "ThreadComment",
    "Unauthorized",
    "Unprocessable",
    "WritePacer",
]
