"""Errors raised by ``app.github``: githubkit's exceptions translated into a small, stable hierarchy.

Callers catch these and never githubkit's own classes, so the pipeline does not depend on the
GitHub library.  Messages carry GitHub's own error text (``message`` of the response), never a
request body or a token.
"""

from __future__ import annotations

from typing import Any

import httpx
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})


class GitHubError(Exception):
    """Any failure talking to GitHub.  ``status`` is the HTTP status when there was a response."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GitHubError):
    """404, or a GraphQL ``NOT_FOUND`` error."""


class Unauthorized(GitHubError):
    """401 that survived one token refresh: bad credentials, app uninstalled or key revoked."""


class Forbidden(GitHubError):
    """403 that is not a rate limit (missing permission, e.g. "Resource not accessible by integration")."""


class Unprocessable(GitHubError):
    """422: GitHub understood the request and refused it (e.g. a review comment outside the diff).

    ``errors`` holds GitHub's ``errors`` array as given.
    """

    def __init__(self, message: str, *, status: int | None = 422, errors: list[Any] | None = None) -> None:
        super().__init__(message, status=status)
        self.errors: list[Any] = list(errors or [])


class RateLimited(GitHubError):
    """A primary or secondary rate limit that archbot did not (or may not) wait out.

    ``retry_after`` is the number of seconds GitHub asked to wait (or archbot's estimate).
    """

    def __init__(self, message: str, *, status: int | None = None, retry_after: float = 60.0) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(GitHubError):
    """5xx, a timeout or a broken connection.  For a write, the outcome is UNKNOWN: the request may
    have been applied.  Look for archbot's marker before writing again."""


class GraphQLQueryError(GitHubError):
    """GraphQL answered with ``errors`` (invalid query, unknown field, ...).  ``errors`` as given."""

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, status=200)
        self.errors: list[dict[str, Any]] = list(errors or [])


def response_message(response: httpx.Response) -> str:
    """GitHub's ``message`` field of an error response, or the reason phrase."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return str(payload["message"])[:300]
    return response.reason_phrase or f"HTTP {response.status_code}"


def response_errors(response: httpx.Response) -> list[Any]:
    """GitHub's ``errors`` array of an error response (empty when absent)."""
    try:
        payload = response.json()
    except ValueError:
        return []
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
        return list(payload["errors"])
    return []


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind a githubkit exception (also for a failed token exchange)."""
    if isinstance(exc, RequestFailed):
        return exc.response.status_code
    if isinstance(exc, RequestError) and isinstance(exc.exc, RequestFailed):
        return exc.exc.response.status_code
    return None


def unwrap_failed(exc: BaseException) -> RequestFailed | None:
    """The ``RequestFailed`` behind ``exc``; a failed token exchange arrives wrapped in ``RequestError``."""
    if isinstance(exc, RequestFailed):
        return exc
    if isinstance(exc, RequestError) and isinstance(exc.exc, RequestFailed):
        return exc.exc
    return None


def translate(exc: GitHubException, *, retry_after: float | None = None) -> GitHubError:
    """Turn a githubkit exception into a :class:`GitHubError` (chain it with ``raise ... from exc``)."""
    if isinstance(exc, GraphQLFailed):
        errors = [e.model_dump(exclude_none=True) for e in exc.response.errors or []]
        if any(e.get("type") == "NOT_FOUND" for e in errors):
            return NotFound(_graphql_summary(errors), status=404)
        return GraphQLQueryError(_graphql_summary(errors), errors=errors)
    if isinstance(exc, RequestTimeout):
        return ServerError("GitHub request timed out")
    failed = unwrap_failed(exc)
    if failed is None:
        if isinstance(exc, RequestError):
            return ServerError(f"GitHub request failed: {type(exc.exc).__name__}")
        return GitHubError(f"GitHub request failed: {type(exc).__name__}")
    raw = failed.response.raw_response
    status = raw.status_code
    message = response_message(raw)
    if isinstance(failed, RateLimitExceeded) or retry_after is not None:
        wait = retry_after if retry_after is not None else _retry_after_of(failed)
        return RateLimited(f"rate limited: {message}", status=status, retry_after=wait)
    if status == 401:
        return Unauthorized(message, status=status)
    if status == 403:
        return Forbidden(message, status=status)
    if status == 404:
        return NotFound(message, status=status)
    if status == 422:
        return Unprocessable(message, status=status, errors=response_errors(raw))
    if status >= 500:
        return ServerError(message, status=status)
    return GitHubError(message, status=status)


def _retry_after_of(exc: RequestFailed) -> float:
    if isinstance(exc, RateLimitExceeded):
        return exc.retry_after.total_seconds()
    return 60.0


def _graphql_summary(errors: list[dict[str, Any]]) -> str:
    messages = [str(e.get("message", "")) for e in errors[:3]]
    return "GraphQL errors: " + "; ".join(messages)
