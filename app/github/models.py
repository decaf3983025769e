"""Plain data that ``app.github`` hands to the rest of archbot (no githubkit types leak out).

Logins are normalised: GraphQL names an App author ``archbot`` (type ``Bot``) where REST says
``archbot[bot]``; both arrive here as ``archbot[bot]`` so trust checks compare one form.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AppIdentity:
    """Who archbot is on GitHub.  App mode: ``f"{slug}[bot]"``; Action token mode: ``github-actions[bot]``."""

    app_id: int | None
    slug: str | None
    bot_login: str


@dataclass(frozen=True, slots=True)
class IssueComment:
    """A comment on an issue or on a PR's conversation tab.

    ``app_id`` is the id of the GitHub App that wrote it (REST ``performed_via_github_app``); the
    GraphQL query cannot see it and leaves it ``None``.
    """

    id: int
    node_id: str
    author: str | None
    body: str
    author_is_bot: bool = False
    created_at: str = ""
    app_id: int | None = None


@dataclass(frozen=True, slots=True)
class ThreadComment:
    """One comment of a review thread (``line`` is ``None`` when the thread is outdated)."""

    id: int
    author: str | None
    body: str
    path: str
    line: int | None
    author_is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ReviewThread:
    """A review thread on a PR.  ``id`` is the GraphQL node id that ``resolve_thread`` takes.

    With GraphQL disabled (REST fallback) threads are rebuilt from review comments: ``id`` is ``""``
    and ``is_resolved`` is always ``False``.
    """

    id: str
    is_resolved: bool
    comments: list[ThreadComment]
    is_outdated: bool = False


@dataclass(frozen=True, slots=True)
class PullRequestReview:
    """A submitted review: its body may carry archbot's marker for a commit."""

    id: int
    author: str | None
    body: str
    state: str
    commit_id: str | None
    author_is_bot: bool = False


@dataclass(frozen=True, slots=True)
class CheckRunInfo:
    """A check run on the reviewed head commit, as the PR-context query sees it.

    ``status`` uses GraphQL's words (``QUEUED``, ``IN_PROGRESS``, ``COMPLETED``, ...); ``app_id``
    is the id of the GitHub App that created it (``None`` when GitHub does not say).
    """

    id: int
    name: str
    status: str
    app_id: int | None


@dataclass(frozen=True, slots=True)
class Degradation:
    """An optional part of a read that GitHub refused and archbot did without.

    ``part`` names what is missing (``check_runs``), ``reason`` why (``undefined_field``,
    ``argument_not_accepted``, ``forbidden``), ``message`` is GitHub's own error text.
    """

    part: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class PRContext:
    """Everything the review pipeline reads about a PR, fetched in one GraphQL query.

    ``state`` uses GraphQL's words: ``OPEN``, ``CLOSED`` or ``MERGED``.  ``config_text`` is the
    repository config read from the DEFAULT branch (never from the PR head).  ``file_texts`` maps
    each requested path to its text at the head commit, or ``None`` when it is missing, binary or
    too large for GitHub to return whole.  ``comments`` are the last 100 conversation comments and
    ``threads`` the first 100 review threads; the ``*_truncated`` flags say when there were more.
    ``check_runs`` are the runs with the asked-for name on the reviewed head commit (empty when no
    name was asked for, and always empty on the REST fallback).  ``degraded`` lists the optional
    parts GitHub refused (the query was sent again without them); ``check_runs`` is then empty.
    """

    number: int
    title: str
    body: str
    head_sha: str
    base_sha: str
    base_ref: str
    head_repo: str | None
    is_fork: bool
    draft: bool
    author_login: str | None
    author_is_bot: bool
    state: str
    default_branch: str
    config_text: str | None
    comments: list[IssueComment]
    threads: list[ReviewThread]
    file_texts: dict[str, str | None]
    reviews: list[PullRequestReview] = field(default_factory=list)
    comments_truncated: bool = False
    threads_truncated: bool = False
    check_runs: list[CheckRunInfo] = field(default_factory=list)
    degraded: list[Degradation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IssueInfo:
    """An issue (or a PR seen through the issues API: ``is_pr``).  ``state`` is ``open``/``closed``."""

    number: int
    title: str
    body: str
    labels: list[str]
    author: str | None
    is_pr: bool
    state: str
    author_is_bot: bool = False
