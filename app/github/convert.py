"""Turn GitHub's JSON (GraphQL data and REST rows) into archbot's plain models.  Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.github.graphql_queries import REVIEWED_COMMIT, file_alias
from app.github.models import (
    CheckRunInfo,
    IssueComment,
    IssueInfo,
    PRContext,
    PullRequestReview,
    ReviewThread,
    ThreadComment,
)

BOT_SUFFIX = "[bot]"


def normalize_login(login: str | None, *, is_bot: bool) -> str | None:
    """REST's form of a login: GraphQL names App authors without the ``[bot]`` suffix."""
    if login is None:
        return None
    if is_bot and not login.endswith(BOT_SUFFIX):
        return login + BOT_SUFFIX
    return login


def graphql_actor(node: Mapping[str, Any] | None) -> tuple[str | None, bool]:
    """``(login, is_bot)`` of a GraphQL ``Actor`` (``None`` for a deleted account)."""
    if not node:
        return None, False
    is_bot = node.get("__typename") == "Bot"
    return normalize_login(node.get("login"), is_bot=is_bot), is_bot


def rest_user(user: Mapping[str, Any] | None) -> tuple[str | None, bool]:
    """``(login, is_bot)`` of a REST ``user`` object."""
    if not user:
        return None, False
    return user.get("login"), user.get("type") == "Bot"


def _as_int(value: Any) -> int:
    """GraphQL ``BigInt`` comes as a string; ``None`` (no id) becomes 0."""
    return int(value) if value is not None else 0


def blob_text(node: Mapping[str, Any] | None) -> str | None:
    """The text of a ``Blob``, or ``None`` when it is missing, binary or truncated by GitHub."""
    if not node or node.get("isBinary") or node.get("isTruncated"):
        return None
    text = node.get("text")
    return text if isinstance(text, str) else None


def _nodes(connection: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not connection:
        return []
    return [n for n in connection.get("nodes") or [] if n]


def pr_context_from_graphql(
    data: Mapping[str, Any], number: int, paths: Sequence[str], head_sha: str | None = None
) -> PRContext:
    """Build a :class:`PRContext` from the data of ``pr_context_query`` (``head_sha`` as passed to it)."""
    repo = data.get("repository") or {}
    pr = repo.get("pullRequest")
    if not pr:
        raise KeyError(f"pull request {number} missing from GraphQL data")
    default_ref = repo.get("defaultBranchRef") or {}
    target = default_ref.get("target") or {}
    config_entry = target.get("config") or {}
    author, author_is_bot = graphql_actor(pr.get("author"))

    comments = []
    for node in _nodes(pr.get("comments")):
        login, is_bot = graphql_actor(node.get("author"))
        comments.append(
            IssueComment(
                id=_as_int(node.get("fullDatabaseId")),
                node_id=str(node.get("id", "")),
                author=login,
                body=node.get("body") or "",
                author_is_bot=is_bot,
                created_at=node.get("createdAt") or "",
            )
        )
    threads = []
    for node in _nodes(pr.get("reviewThreads")):
        thread_comments = []
        for c in _nodes(node.get("comments")):
            login, is_bot = graphql_actor(c.get("author"))
            thread_comments.append(
                ThreadComment(
                    id=_as_int(c.get("fullDatabaseId")),
                    author=login,
                    body=c.get("body") or "",
                    path=c.get("path") or "",
                    line=c.get("line"),
                    author_is_bot=is_bot,
                )
            )
        threads.append(
            ReviewThread(
                id=str(node.get("id", "")),
                is_resolved=bool(node.get("isResolved")),
                comments=thread_comments,
                is_outdated=bool(node.get("isOutdated")),
            )
        )
    reviews = []
    for node in _nodes(pr.get("reviews")):
        login, is_bot = graphql_actor(node.get("author"))
        commit = node.get("commit") or {}
        reviews.append(
            PullRequestReview(
                id=_as_int(node.get("fullDatabaseId")),
                author=login,
                body=node.get("body") or "",
                state=node.get("state") or "",
                commit_id=commit.get("oid"),
                author_is_bot=is_bot,
            )
        )
    file_texts = _file_texts(repo, pr, paths)
    head_repo = (pr.get("headRepository") or {}).get("nameWithOwner")
    comment_conn = pr.get("comments") or {}
    thread_conn = pr.get("reviewThreads") or {}
    return PRContext(
        number=int(pr.get("number", number)),
        title=pr.get("title") or "",
        body=pr.get("body") or "",
        head_sha=pr.get("headRefOid") or "",
        base_sha=pr.get("baseRefOid") or "",
        base_ref=pr.get("baseRefName") or "",
        head_repo=head_repo,
        is_fork=bool(pr.get("isCrossRepository")),
        draft=bool(pr.get("isDraft")),
        author_login=author,
        author_is_bot=author_is_bot,
        state=pr.get("state") or "",
        default_branch=default_ref.get("name") or "",
        config_text=blob_text(config_entry.get("object")),
        comments=comments,
        threads=threads,
        file_texts=file_texts,
        reviews=reviews,
        comments_truncated=int(comment_conn.get("totalCount") or 0) > len(comments),
        threads_truncated=int(thread_conn.get("totalCount") or 0) > len(threads),
        check_runs=_check_runs(repo, pr, head_sha or pr.get("headRefOid") or ""),
    )


def _check_runs(repo: Mapping[str, Any], pr: Mapping[str, Any], sha: str) -> list[CheckRunInfo]:
    """The check runs read by ``ArchbotCheckRuns``: from the commit read by sha, else from the PR's
    last commit, and only when that commit IS ``sha`` (its last commit need not be the head)."""
    if REVIEWED_COMMIT in repo:
        commit = repo.get(REVIEWED_COMMIT) or {}
    else:
        head_nodes = _nodes(pr.get("headCommit"))
        commit = (head_nodes[-1].get("commit") or {}) if head_nodes else {}
    if not sha or commit.get("oid") != sha:
        return []
    runs: list[CheckRunInfo] = []
    for suite in _nodes(commit.get("checkSuites")):
        app_id = (suite.get("app") or {}).get("databaseId")
        for run in _nodes(suite.get("checkRuns")):
            run_id = run.get("databaseId")
            if run_id is None:  # no id to PATCH: useless to the caller
                continue
            runs.append(
                CheckRunInfo(
                    id=int(run_id),
                    name=run.get("name") or "",
                    status=run.get("status") or "",
                    app_id=int(app_id) if app_id is not None else None,
                )
            )
    return runs


def _file_texts(repo: Mapping[str, Any], pr: Mapping[str, Any], paths: Sequence[str]) -> dict[str, str | None]:
    head_nodes = _nodes(pr.get("headCommit"))
    head_commit = (head_nodes[-1].get("commit") or {}) if head_nodes else {}
    texts: dict[str, str | None] = {}
    for index, path in enumerate(paths):
        alias = file_alias(index)
        if alias in repo:
            texts[path] = blob_text(repo.get(alias))
        else:
            entry = head_commit.get(alias) or {}
            texts[path] = blob_text(entry.get("object"))
    return texts


def issue_comment_from_rest(row: Mapping[str, Any]) -> IssueComment:
    """One row of ``GET /repos/{o}/{r}/issues/{n}/comments``."""
    login, is_bot = rest_user(row.get("user"))
    app = row.get("performed_via_github_app") or {}
    app_id = app.get("id")
    return IssueComment(
        id=int(row["id"]),
        node_id=str(row.get("node_id", "")),
        author=login,
        body=row.get("body") or "",
        author_is_bot=is_bot,
        created_at=row.get("created_at") or "",
        app_id=int(app_id) if app_id is not None else None,
    )


def issue_from_rest(row: Mapping[str, Any]) -> IssueInfo:
    """``GET /repos/{o}/{r}/issues/{n}``."""
    login, is_bot = rest_user(row.get("user"))
    labels = [str(label.get("name")) if isinstance(label, Mapping) else str(label) for label in row.get("labels") or []]
    return IssueInfo(
        number=int(row["number"]),
        title=row.get("title") or "",
        body=row.get("body") or "",
        labels=labels,
        author=login,
        is_pr=row.get("pull_request") is not None,
        state=row.get("state") or "",
        author_is_bot=is_bot,
    )


def threads_from_rest(rows: Sequence[Mapping[str, Any]]) -> list[ReviewThread]:
    """Rebuild threads from ``GET /pulls/{n}/comments`` rows (REST knows no thread ids)."""
    roots: dict[int, list[ThreadComment]] = {}
    order: list[int] = []
    for row in rows:
        login, is_bot = rest_user(row.get("user"))
        comment = ThreadComment(
            id=int(row["id"]),
            author=login,
            body=row.get("body") or "",
            path=row.get("path") or "",
            line=row.get("line"),
            author_is_bot=is_bot,
        )
        root = int(row.get("in_reply_to_id") or row["id"])
        if root not in roots:
            roots[root] = []
            order.append(root)
        roots[root].append(comment)
    return [ReviewThread(id="", is_resolved=False, comments=roots[r]) for r in order]


def pr_state_from_rest(row: Mapping[str, Any]) -> str:
    """REST ``state`` + ``merged`` in GraphQL's words."""
    if row.get("merged") or row.get("merged_at"):
        return "MERGED"
    return str(row.get("state") or "").upper()
