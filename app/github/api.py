"""``RepoAPI``: every GitHub read and write archbot makes on one repository.

Reads go through the retry layer (:class:`~app.github.pacing.ReadRetry`).  Writes are paced
(:class:`~app.github.pacing.WritePacer`) and NEVER retried here: a 5xx or a timeout on a write
means "outcome unknown" (:class:`~app.github.errors.ServerError`); the pipeline looks for its
marker before it writes again.  A 401 on any call gets one fresh installation token and one more
try (nothing was applied on a 401, so that is safe for writes too).

``requests`` counts the REST and GraphQL requests this object sent, retries included, the
installation token exchange excluded (DESIGN Decision 5).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import quote

import pydantic
from githubkit import GitHub, Response
from githubkit.exception import GitHubException

from app.github import convert
from app.github.errors import GitHubError, GraphQLQueryError, NotFound, Unprocessable, http_status, translate
from app.github.graphql_queries import (
    CHECK_RUNS_PART,
    RESOLVE_THREAD_MUTATION,
    context_alias,
    context_blobs_query,
    optional_refusal,
    pr_context_query,
)
from app.github.models import Degradation, IssueComment, IssueInfo, PRContext
from app.github.pacing import ReadRetry, WritePacer, writing
from app.review.repo_files import is_safe_path

T = TypeVar("T")
Op = Callable[[GitHub[Any]], Awaitable[T]]

LOG = logging.getLogger(__name__)

REST_API_VERSION = "2026-03-10"
VERSION_HEADERS = {"X-GitHub-Api-Version": REST_API_VERSION}
DIFF_HEADERS = {**VERSION_HEADERS, "Accept": "application/vnd.github.diff"}
PER_PAGE = 100
MAX_FILES = 3000  # GitHub lists at most 3,000 files of a PR
ANNOTATIONS_PER_REQUEST = 50
MAX_BODY = 65_536  # comment and review bodies
MAX_CHECK_TEXT = 65_535  # check-run summary and text
MAX_CONTEXT_EXPRESSIONS = 200  # blob lookups in one review-context query, whatever the caller asks
KNOWN_ROLES = frozenset({"admin", "maintain", "write", "triage", "read", "none"})
_NEXT_LINK = re.compile(r'<([^<>]+)>;\s*rel="next"')


def clip(text: str, limit: int) -> str:
    """Keep ``text`` under GitHub's size limit (a last safety net; renderers budget first)."""
    if len(text) <= limit:
        return text
    note = "\n\n… (truncated)"
    return text[: limit - len(note)] + note


def _first_message(errors: Sequence[dict[str, Any]]) -> str:
    """GitHub's text of the first GraphQL error, short enough for a log line."""
    return str(errors[0].get("message", ""))[:300] if errors else ""


def _get(url: str) -> Op[Response[Any]]:
    """A GET of an absolute URL (a ``Link: rel="next"`` page)."""
    return lambda gh: gh.arequest("GET", url, headers=VERSION_HEADERS)


class RepoAPI:
    """GitHub calls for ``owner/repo`` through one authenticated client."""

    def __init__(
        self,
        gh: GitHub[Any],
        owner: str,
        repo: str,
        *,
        pacer: WritePacer,
        graphql_enabled: bool = True,
        retry: ReadRetry | None = None,
        refresh: Callable[[], GitHub[Any]] | None = None,
        paced_at_send: bool = False,
    ) -> None:
        self._gh = gh
        self._paced_at_send = paced_at_send  # the client's transport is a PacedTransport
        self.owner = owner
        self.repo = repo
        self.graphql_enabled = graphql_enabled
        self._pacer = pacer
        self._retry = retry or ReadRetry()
        self._refresh = refresh
        self.requests = 0

    # ----------------------------------------------------------------- plumbing

    async def _once(self, op: Op[T]) -> T:
        try:
            result = await op(self._gh)
        except GitHubException:
            self.requests += 1
            raise
        self.requests += 1
        return result

    async def _call(self, op: Op[T]) -> T:
        """One attempt, plus one more with a fresh token after a 401."""
        try:
            return await self._once(op)
        except GitHubException as exc:
            if self._refresh is None or http_status(exc) != 401:
                raise
            LOG.warning("github answered 401; refreshing the installation token and trying once more")
            self._gh = self._refresh()
            return await self._once(op)

    async def _read(self, op: Op[T], what: str) -> T:
        try:
            return await self._retry.run(lambda: self._call(op), what=what)
        except pydantic.ValidationError as exc:
            raise Unprocessable(f"{what}: invalid request ({exc.error_count()} errors)", status=None) from exc

    async def _write(self, op: Op[T], what: str) -> T:
        if not self._paced_at_send:
            await self._pacer.wait()
        try:
            with writing(self._pacer):  # a PacedTransport waits for the pacer right before sending
                return await self._call(op)
        except GitHubException as exc:
            wait = self._retry.rate_limit_wait(exc)
            if wait is not None:
                self._pacer.hold(wait)
                self._retry.note_wait(wait)
            raise translate(exc, retry_after=wait) from exc
        except pydantic.ValidationError as exc:
            raise Unprocessable(f"{what}: invalid request ({exc.error_count()} errors)", status=None) from exc

    async def _paginate(self, first: Op[Response[Any]], what: str, limit: int | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        response = await self._read(first, what)
        while True:
            page = response.json()
            if isinstance(page, list):
                items.extend(page)
            match = _NEXT_LINK.search(response.headers.get("link", ""))
            if match is None or (limit is not None and len(items) >= limit):
                break
            response = await self._read(_get(match.group(1)), what)
        return items[:limit] if limit is not None else items

    @property
    def _path(self) -> str:
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.repo, safe='')}"

    # ----------------------------------------------------------------- reads

    async def pr_context(
        self,
        number: int,
        *,
        config_path: str = ".github/archbot.yml",
        paths: Sequence[str] = (),
        head_sha: str | None = None,
        check_name: str | None = None,
        check_app_id: int | None = None,
    ) -> PRContext:
        """PR metadata, config (default branch), comments, threads and file texts: ONE GraphQL query.

        ``paths`` are read at ``head_sha`` when given (the commit being reviewed), else at the
        PR's last commit.  With ``check_name`` the same query also reads the check runs of that
        name on that commit (only those of App ``check_app_id`` when given) into ``check_runs``.
        With ``graphql_enabled=False`` it falls back to several REST calls and ``check_runs`` is
        empty.

        When GitHub refuses only the check-run lookup (a schema without ``checkSuites``, or no
        permission for it), the query is sent once more without it: ``check_runs`` is then empty
        and ``degraded`` says what was dropped and why.  Any other GraphQL error is raised.
        """
        if not self.graphql_enabled:
            return await self._pr_context_rest(number, config_path=config_path, paths=paths, head_sha=head_sha)

        async def ask(check: str | None) -> dict[str, Any]:
            document, variables = pr_context_query(
                owner=self.owner,
                name=self.repo,
                number=number,
                config_path=config_path,
                paths=list(paths),
                head_sha=head_sha,
                check_name=check,
                check_app_id=check_app_id,
            )
            return await self._read(lambda gh: gh.async_graphql(document, variables), "pr_context")

        degraded: list[Degradation] = []
        try:
            data = await ask(check_name)
        except GraphQLQueryError as exc:
            reason = optional_refusal(exc.errors) if check_name is not None else None
            if reason is None:
                raise
            # GitHub refused only the optional check-run lookup: ask ONCE more without it
            degraded.append(Degradation(part=CHECK_RUNS_PART, reason=reason, message=_first_message(exc.errors)))
            data = await ask(None)
        try:
            ctx = convert.pr_context_from_graphql(data, number, list(paths), head_sha)
        except KeyError as exc:
            raise NotFound(f"pull request {number} not found", status=404) from exc
        return dataclasses.replace(ctx, degraded=degraded) if degraded else ctx

    async def _pr_context_rest(
        self, number: int, *, config_path: str, paths: Sequence[str], head_sha: str | None
    ) -> PRContext:
        response = await self._read(
            lambda gh: gh.arequest("GET", f"{self._path}/pulls/{number}", headers=VERSION_HEADERS), "pull"
        )
        pull: dict[str, Any] = response.json()
        head = pull.get("head") or {}
        base = pull.get("base") or {}
        base_repo = base.get("repo") or {}
        head_repo = (head.get("repo") or {}).get("full_name")
        default_branch = str(base_repo.get("default_branch") or "")
        sha = head_sha or str(head.get("sha") or "")
        config_text = await self.file_text(config_path, default_branch or None)
        comments = await self.issue_comments(number)
        review_rows = await self._paginate(
            lambda gh: gh.arequest(
                "GET", f"{self._path}/pulls/{number}/comments", params={"per_page": PER_PAGE}, headers=VERSION_HEADERS
            ),
            "review_comments",
        )
        file_texts = {path: await self.file_text(path, sha) for path in paths}
        author, author_is_bot = convert.rest_user(pull.get("user"))
        return PRContext(
            number=int(pull.get("number", number)),
            title=pull.get("title") or "",
            body=pull.get("body") or "",
            head_sha=str(head.get("sha") or ""),
            base_sha=str(base.get("sha") or ""),
            base_ref=str(base.get("ref") or ""),
            head_repo=head_repo,
            is_fork=head_repo != base_repo.get("full_name"),
            draft=bool(pull.get("draft")),
            author_login=author,
            author_is_bot=author_is_bot,
            state=convert.pr_state_from_rest(pull),
            default_branch=default_branch,
            config_text=config_text,
            comments=comments,
            threads=convert.threads_from_rest(review_rows),
            file_texts=file_texts,
        )

    async def context_blobs(
        self, head_sha: str, paths: Sequence[str], *, max_files: int, max_bytes: int
    ) -> dict[str, str]:
        """Texts of ``paths`` at ``head_sha`` in ONE GraphQL query: the review's context files.

        Unsafe paths (``..``, absolute, backslashes, NUL) are never asked for; missing paths, trees,
        binary and truncated blobs are skipped. In the order given, at most ``max_files`` texts and
        ``max_bytes`` bytes in all are kept (a blob that would pass the byte cap is skipped, smaller
        ones after it still fit). No request when nothing is left to ask; GraphQL must be enabled.
        """
        if not self.graphql_enabled:
            raise GitHubError("context_blobs needs GraphQL, which is disabled")
        wanted = list(dict.fromkeys(p for p in paths if is_safe_path(p)))[:MAX_CONTEXT_EXPRESSIONS]
        if not wanted or max_files < 1:
            return {}
        document, variables = context_blobs_query(owner=self.owner, name=self.repo, head_sha=head_sha, paths=wanted)
        data = await self._read(lambda gh: gh.async_graphql(document, variables), "context_blobs")
        repository = data.get("repository") if isinstance(data, dict) else None
        if not isinstance(repository, dict):
            return {}
        texts: dict[str, str] = {}
        spent = 0
        for index, path in enumerate(wanted):
            text = convert.blob_text(repository.get(context_alias(index)))
            if text is None:
                continue
            size = len(text.encode("utf-8"))
            if spent + size > max_bytes:
                continue
            texts[path] = text
            spent += size
            if len(texts) >= max_files:
                break
        return texts

    async def get_diff(self, number: int) -> str | None:
        """The PR's unified diff, or ``None`` when GitHub says it is too large (406)."""
        try:
            response = await self._read(
                lambda gh: gh.rest.pulls.async_get(self.owner, self.repo, number, headers=DIFF_HEADERS), "get_diff"
            )
        except GitHubError as exc:
            if exc.status == 406:
                LOG.info("diff of PR %d too large; caller falls back to the files list", number)
                return None
            raise
        return response.text

    async def list_files(self, number: int) -> list[dict[str, Any]]:
        """The PR's changed files (rows with ``filename``, ``status``, maybe ``patch``), all pages."""
        return await self._paginate(
            lambda gh: gh.rest.pulls.async_list_files(self.owner, self.repo, number, per_page=PER_PAGE),
            "list_files",
            limit=MAX_FILES,
        )

    async def compare_diff(self, base: str, head: str) -> str | None:
        """Unified diff ``base...head``; ``None`` when a commit is gone (force-push: 404) or too large (406)."""
        try:
            response = await self._read(
                lambda gh: gh.rest.repos.async_compare_commits(
                    self.owner, self.repo, f"{base}...{head}", headers=DIFF_HEADERS
                ),
                "compare_diff",
            )
        except GitHubError as exc:
            if exc.status in (404, 406):
                return None
            raise
        return response.text

    async def issue(self, number: int) -> IssueInfo:
        """An issue (or a PR through the issues API)."""
        response = await self._read(
            lambda gh: gh.rest.issues.async_get(self.owner, self.repo, number, headers=VERSION_HEADERS), "issue"
        )
        return convert.issue_from_rest(response.json())

    async def issue_comments(self, number: int) -> list[IssueComment]:
        """All conversation comments of an issue or PR, oldest first."""
        rows = await self._paginate(
            lambda gh: gh.rest.issues.async_list_comments(self.owner, self.repo, number, per_page=PER_PAGE),
            "issue_comments",
        )
        return [convert.issue_comment_from_rest(row) for row in rows]

    async def permission(self, login: str) -> str | None:
        """``admin``/``maintain``/``write``/``triage``/``read``/``none``; ``None`` on any error (deny)."""
        try:
            response = await self._read(
                lambda gh: gh.rest.repos.async_get_collaborator_permission_level(self.owner, self.repo, login),
                "permission",
            )
            payload = response.json()
        except (GitHubError, ValueError) as exc:
            LOG.info("permission lookup failed (%s); denying", type(exc).__name__)
            return None
        role = payload.get("role_name") if isinstance(payload, dict) else None
        if isinstance(role, str) and role in KNOWN_ROLES:
            return role
        level = payload.get("permission") if isinstance(payload, dict) else None
        return level if isinstance(level, str) and level in KNOWN_ROLES else None

    async def file_text(self, path: str, ref: str | None = None) -> str | None:
        """A file's UTF-8 text at ``ref`` (default branch when ``None``); ``None`` if absent, a
        directory, binary, or too large for the contents API (over 1 MB)."""
        params = {"ref": ref} if ref else None
        try:
            response = await self._read(
                lambda gh: gh.arequest(
                    "GET", f"{self._path}/contents/{quote(path)}", params=params, headers=VERSION_HEADERS
                ),
                "file_text",
            )
        except NotFound:
            return None
        payload = response.json()
        if not isinstance(payload, dict) or payload.get("type") != "file" or payload.get("encoding") != "base64":
            return None
        try:
            return base64.b64decode(str(payload.get("content", ""))).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None

    # ----------------------------------------------------------------- writes (paced, never retried)

    async def create_check_run(
        self, *, name: str, head_sha: str, status: str = "in_progress", external_id: str | None = None
    ) -> int:
        """Start a check run; returns its id."""
        data: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if external_id is not None:
            data["external_id"] = external_id
        response = await self._write(
            lambda gh: gh.rest.checks.async_create(self.owner, self.repo, data=cast(Any, data)), "create_check_run"
        )
        return int(response.json()["id"])

    async def update_check_run(
        self,
        check_run_id: int,
        *,
        status: str | None = None,
        conclusion: str | None = None,
        title: str,
        summary: str,
        text: str | None = None,
        annotations: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Update a check run; annotations go 50 per PATCH (GitHub appends them across updates).

        Status and conclusion ride on the first PATCH, so the run is completed even if a later
        batch fails.
        """
        output: dict[str, Any] = {"title": title, "summary": clip(summary, MAX_CHECK_TEXT)}
        if text is not None:
            output["text"] = clip(text, MAX_CHECK_TEXT)
        batches = [
            list(annotations[i : i + ANNOTATIONS_PER_REQUEST])
            for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
        ] or [[]]
        for index, batch in enumerate(batches):
            data: dict[str, Any] = {"output": {**output, "annotations": batch} if batch else dict(output)}
            if index == 0:
                if status is not None:
                    data["status"] = status
                if conclusion is not None:
                    data["conclusion"] = conclusion
            await self._write(self._check_run_patch(check_run_id, data), "update_check_run")

    def _check_run_patch(self, check_run_id: int, data: dict[str, Any]) -> Op[Response[Any]]:
        return lambda gh: gh.rest.checks.async_update(self.owner, self.repo, check_run_id, data=cast(Any, data))

    async def create_review(self, number: int, *, commit_id: str, body: str, comments: Sequence[dict[str, Any]]) -> int:
        """Post ONE review with inline comments; the event is always ``COMMENT`` (archbot never
        approves or requests changes).  A 422 (a comment outside the diff) raises ``Unprocessable``."""
        data: dict[str, Any] = {
            "commit_id": commit_id,
            "body": clip(body, MAX_BODY),
            "event": "COMMENT",
            "comments": [dict(c) for c in comments],
        }
        response = await self._write(
            lambda gh: gh.rest.pulls.async_create_review(self.owner, self.repo, number, data=cast(Any, data)),
            "create_review",
        )
        return int(response.json()["id"])

    async def create_comment(self, number: int, body: str) -> int:
        """Post a conversation comment on an issue or PR; returns its id."""
        response = await self._write(
            lambda gh: gh.rest.issues.async_create_comment(
                self.owner, self.repo, number, data={"body": clip(body, MAX_BODY)}
            ),
            "create_comment",
        )
        return int(response.json()["id"])

    async def reply_to_review_comment(self, number: int, comment_id: int, body: str) -> int:
        """Reply in the review thread that ``comment_id`` (its first comment) starts; returns the reply's id."""
        response = await self._write(
            lambda gh: gh.arequest(
                "POST",
                f"{self._path}/pulls/{number}/comments/{comment_id}/replies",
                json={"body": clip(body, MAX_BODY)},
                headers=VERSION_HEADERS,
            ),
            "reply_to_review_comment",
        )
        return int(response.json()["id"])

    async def update_comment(self, comment_id: int, body: str) -> None:
        """Edit a conversation comment in place (the sticky summary, the plan)."""
        await self._write(
            lambda gh: gh.rest.issues.async_update_comment(
                self.owner, self.repo, comment_id, data={"body": clip(body, MAX_BODY)}
            ),
            "update_comment",
        )

    async def add_reaction(self, comment_id: int, content: str = "eyes") -> None:
        """React to a conversation comment (acknowledge a command)."""
        await self._write(
            lambda gh: gh.rest.reactions.async_create_for_issue_comment(
                self.owner, self.repo, comment_id, data=cast(Any, {"content": content})
            ),
            "add_reaction",
        )

    async def resolve_thread(self, thread_id: str) -> None:
        """Resolve a review thread (GraphQL ``resolveReviewThread``); never deletes anything."""
        if not self.graphql_enabled:
            raise GitHubError("resolve_thread needs GraphQL, which is disabled")
        await self._write(
            lambda gh: gh.async_graphql(RESOLVE_THREAD_MUTATION, {"threadId": thread_id}), "resolve_thread"
        )
