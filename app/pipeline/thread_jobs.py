"""Thread-reply jobs: answer a person's question in one of archbot's own review threads (issue 19).

One model call per human reply, with the finding, the code around it at the head sha, the thread so far
(all fenced as untrusted) and the persona. The answer is schema-validated, cut to ``MAX_WORDS`` words,
sanitized (no mentions, images, HTML or markers) and posted as a REST reply in that thread with an
``answer`` marker naming the reply it answers: a redelivery, a retry or an edit finds it and does not
answer twice. A ``concede`` verdict makes the next review treat the finding as dismissed
(:func:`app.pipeline.ownership.conceded`). Quotas: answers per PR per day (the usage ledger) and the
installation's daily token budget; when one is reached, a one-line notice is posted once per PR per day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field

from app.github.api import RepoAPI
from app.github.errors import GitHubError
from app.github.models import ReviewThread, ThreadComment
from app.jobs import Job
from app.pipeline.deps import Deps, daily_budget_spent, record_spend
from app.pipeline.ownership import is_ours, own_answers
from app.repo_config import parse_repo_config, permission_allows
from app.review.markers import parse_marker, render_marker
from app.review.model_api import LLMError
from app.review.models import TokenUsage
from app.review.prompts import render_prompt, render_task
from app.review.sanitize import redact_secrets, sanitize_markdown, strip_markers

DAY = 86_400.0
MAX_WORDS = 200
MAX_ANSWER_CHARS = 2_500
CODE_CONTEXT_LINES = 15
MAX_FINDING_CHARS = 6_000
MAX_THREAD_CHARS = 12_000
REQUIRED_PERMISSION = "read"
TOOL_NAME = "submit_answer"
TOOL_DESCRIPTION = (
    "Submit your answer to the reply in your review thread: the verdict (concede, hold or unsure) and the "
    "answer text. Call this tool exactly once; it is the only way to answer."
)
CONCEDED_NOTE = "_archbot treats this finding as dismissed and resolves the thread: it will not raise it again here._"
QUOTA_NOTICE = "archbot has reached its answer quota for {what}; it will answer questions again tomorrow (UTC)."
_WORD = re.compile(r"\S+")


class ThreadAnswer(BaseModel):
    """The model's answer in a review thread (the forced tool's input)."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["concede", "hold", "unsure"]
    answer: str = Field(min_length=1, max_length=4_000)


@dataclass(frozen=True)
class AskedThread:
    """archbot's thread a reply was made in: the thread, its first comment and the finding's fingerprints."""

    thread: ReviewThread
    root: ThreadComment
    fingerprints: list[str]


def find_own_thread(threads: list[ReviewThread], deps: Deps, reply_id: int, root_id: int) -> AskedThread | None:
    """The thread holding ``reply_id`` (or started by ``root_id``) when archbot started it with a finding.

    Both must hold: the first comment is written by archbot's own login AND carries its ``finding``
    marker; a marker alone (anyone can type one) is never trusted.
    """
    for thread in threads:
        if not thread.comments:
            continue
        root = thread.comments[0]
        if root.id != root_id and all(c.id != reply_id for c in thread.comments):
            continue
        if not is_ours(root.author, deps.identity):
            return None
        data = parse_marker(root.body, "finding")
        fps = data.get("fps") if data is not None else None
        if not isinstance(fps, list) or not fps:
            return None
        return AskedThread(thread, root, [fp for fp in fps if isinstance(fp, str)])
    return None


def clip_words(text: str, limit: int = MAX_WORDS) -> str:
    """``text`` up to its ``limit``-th word (whitespace kept), with an ellipsis when it was cut."""
    words = list(_WORD.finditer(text))
    if len(words) <= limit:
        return text.strip()
    return text[: words[limit - 1].end()].rstrip() + " …"


def code_excerpt(text: str | None, line: int | None, radius: int = CODE_CONTEXT_LINES) -> str:
    """The lines around ``line`` (1-based), numbered like the diff's right side; a note when unknown."""
    if text is None:
        return "(the file's text at the head commit is not available)"
    lines = text.split("\n")
    if line is None or not 1 <= line <= len(lines):
        line = 1
        radius = 2 * radius
    first, last = max(1, line - radius), min(len(lines), line + radius)
    width = len(str(last))
    return "\n".join(f"{n:>{width}} | {lines[n - 1]}".rstrip() for n in range(first, last + 1))


def _thread_text(thread: ReviewThread, deps: Deps, reply_id: int) -> str:
    said = []
    for comment in thread.comments[1:]:
        if comment.id == reply_id:
            break
        who = "archbot (you)" if is_ours(comment.author, deps.identity) else (comment.author or "someone")
        said.append(f"{who}:\n{strip_markers(comment.body).strip()}")
    text = "\n\n---\n\n".join(said)
    return text[-MAX_THREAD_CHARS:] or "(no earlier replies)"


def render_answer(answer: ThreadAnswer, reply_id: int, fingerprints: list[str]) -> str:
    """The posted reply: the sanitized answer (at most ``MAX_WORDS`` words), a note when conceding, the marker."""
    text = sanitize_markdown(clip_words(answer.answer), max_chars=MAX_ANSWER_CHARS)
    parts = [text]
    if answer.verdict == "concede":
        parts.append(CONCEDED_NOTE)
    marker = render_marker("answer", {"reply": reply_id, "verdict": answer.verdict, "fps": fingerprints})
    return "\n\n".join(parts) + "\n\n" + marker


class ThreadReply:
    """One thread-reply job: reads (one GraphQL query, one permission lookup), one model call, one reply."""

    def __init__(self, deps: Deps, job: Job) -> None:
        self.deps = deps
        self.job = job
        owner, _, repo = job.repo.partition("/")
        self.api: RepoAPI = deps.factory.repo_api(owner, repo, installation_id=job.installation_id)
        self.log = structlog.get_logger("archbot.thread").bind(repo=job.repo, pr=job.number, reply=job.comment_id)
        self.reply_id = job.comment_id or 0
        self.login = str(job.data.get("login", ""))
        self.root_id = int(job.data.get("in_reply_to") or 0)

    async def run(self) -> str:
        """Answer, or say (for the log and tests) why not."""
        if not self.reply_id or not self.login or is_ours(self.login, self.deps.identity):
            return "not a person's reply"
        if self.login.endswith("[bot]"):
            return "a bot's reply"
        path = str(self.job.data.get("path", ""))
        ctx = await self.api.pr_context(
            self.job.number,
            config_path=self.deps.settings.archbot_config_path,
            paths=[path] if path else [],
        )
        if ctx.state != "OPEN":
            return "pull request not open"
        asked = find_own_thread(ctx.threads, self.deps, self.reply_id, self.root_id)
        if asked is None:
            return "not archbot's thread"
        if any(data.get("reply") == self.reply_id for data in own_answers(asked.thread, self.deps.identity)):
            return "already answered"
        reply = next((c for c in asked.thread.comments if c.id == self.reply_id), None)
        if reply is not None and (reply.author != self.login or reply.author_is_bot):
            return "reply author mismatch"
        config = parse_repo_config(ctx.config_text).config
        if not config.review.enabled:
            return "review disabled"
        if self.deps.models is None:
            return "no model"
        if not permission_allows(await self.api.permission(self.login), REQUIRED_PERMISSION):
            return "no read permission"
        quota = await self._quota_reached()
        if quota is not None:
            await self._notice_once(asked, quota)
            return "quota reached"
        question = reply.body if reply is not None else str(self.job.data.get("body", ""))
        code = code_excerpt(ctx.file_texts.get(asked.root.path), asked.root.line)
        model = self.deps.models.model(config.model)
        user = render_task(
            "answer",
            variables={"max_words": str(MAX_WORDS)},
            data={
                "finding": ("archbot", _safe(f"{asked.root.path}:{asked.root.line}\n\n{asked.root.body}")),
                "code": ("code", redact_secrets(code)),
                "thread": ("thread", redact_secrets(_thread_text(asked.thread, self.deps, self.reply_id))),
                "question": ("reply", redact_secrets(question.strip()[:4_000]) or "(empty)"),
            },
        )
        try:
            answer, usage = await model.call_tool(
                system=render_prompt("persona", {}),
                user=user,
                tool_name=TOOL_NAME,
                tool_description=TOOL_DESCRIPTION,
                schema=ThreadAnswer,
            )
        except LLMError as exc:
            await record_spend(self.deps, self.job, exc.usage or TokenUsage())
            self.log.warning("thread_answer_failed", error=type(exc).__name__)
            return "model failed"
        await record_spend(self.deps, self.job, usage)
        await self.api.reply_to_review_comment(
            self.job.number, asked.root.id, render_answer(answer, self.reply_id, asked.fingerprints)
        )
        if answer.verdict == "concede":
            await self._resolve(asked.thread)
        self.deps.metrics.thread_answers.labels(verdict=answer.verdict).inc()
        self.log.info("thread_answered", verdict=answer.verdict)
        return f"answered: {answer.verdict}"

    async def _resolve(self, thread: ReviewThread) -> None:
        """Best effort: a conceded thread is also resolved on GitHub (its marker already dismisses it)."""
        if not thread.id or not self.api.graphql_enabled:
            return
        try:
            await self.api.resolve_thread(thread.id)
        except GitHubError as exc:
            self.log.warning("conceded_thread_not_resolved", error=type(exc).__name__)

    async def _quota_reached(self) -> str | None:
        if await daily_budget_spent(self.deps, self.job):
            return "this installation today"
        ledger = self.deps.ledger
        if ledger is None:
            return None
        limit = self.deps.settings.archbot_answers_per_pr_per_day
        key = f"answer:{self.job.repo}#{self.job.number}"
        if not await ledger.try_record(key, since=self.deps.clock() - DAY, limit=limit):
            return "this pull request today"
        return None

    async def _notice_once(self, asked: AskedThread, what: str) -> None:
        ledger = self.deps.ledger
        key = f"answer-notice:{self.job.repo}#{self.job.number}"
        if ledger is not None and not await ledger.try_record(key, since=self.deps.clock() - DAY, limit=1):
            return
        marker = render_marker("answer", {"reply": self.reply_id, "verdict": "quota", "fps": asked.fingerprints})
        await self.api.reply_to_review_comment(
            self.job.number, asked.root.id, QUOTA_NOTICE.format(what=what) + "\n\n" + marker
        )


def _safe(text: str) -> str:
    return redact_secrets(strip_markers(text))[:MAX_FINDING_CHARS]


async def run_thread_reply(deps: Deps, job: Job) -> str:
    """The worker's runner for ``JobKind.THREAD_REPLY``; returns what it did (for logs and the Action)."""
    outcome = await ThreadReply(deps, job).run()
    structlog.get_logger("archbot.thread").info("thread_reply_done", repo=job.repo, pr=job.number, outcome=outcome)
    return outcome


__all__: list[Any] = ["ThreadAnswer", "run_thread_reply"]
