"""Review one pull request at one head sha and post the result exactly once (DESIGN steps 2-8)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from app.design.docs import design_doc_files
from app.diff_input import diff_caps
from app.github.api import RepoAPI
from app.github.errors import GitHubError, RateLimited, ServerError, Unprocessable
from app.github.models import PRContext
from app.jobs import Job
from app.pipeline.deps import CHECK_NAME, Deps, daily_budget_spent, record_spend
from app.pipeline.ownership import (
    OwnComment,
    ThreadState,
    has_human_reply,
    is_ours,
    own_marked_comment,
    thread_state,
)
from app.queue.base import JobSupersededError
from app.repo_config import DesignDocsConfig, LoadedConfig, RepoConfig, parse_repo_config
from app.review.diff import FileDiff
from app.review.diff_caps import CappedDiff, DiffCaps, apply_caps
from app.review.diff_index import index_diff, index_file_rows
from app.review.engine import ReviewRequest, prepare, review
from app.review.findings import exceeds_threshold
from app.review.fingerprint import all_fingerprints, recognised
from app.review.import_paths import context_paths
from app.review.markers import parse_marker, render_marker
from app.review.model_api import DECLINED_REASON, LLMError, SpendLimitError
from app.review.models import Finding, Placement, ReviewResult, Severity, Source
from app.review.render import (
    SUMMARY_MAX_CHARS,
    render_annotations,
    render_check_output,
    render_inline_comment,
    render_summary,
)
from app.review.repo_files import NO_REPO_FILES, MappedRepoFiles, RepoFiles

MAX_CONTENT_FILES = 60  # full texts fetched for the static engine (changed Python files, biggest first)
MAX_DESIGN_DOCS = 5
MAX_DATA_FILES = 10  # other changed text files read whole, so that a suggestion on them can be verified
DATA_SUFFIXES = (".yml", ".yaml", ".toml", ".json")  # asked first: a suggestion on them is also checked to load
MAX_DATA_ADDED_LINES = 2_000  # beyond this a changed file is generated (lockfiles, vendored data): not read
CANDIDATES_PER_CONTEXT_FILE = 4  # import-derived candidate paths asked per context file kept (most are absent)
SUMMARY = "summary"


@dataclass
class PostReport:
    """What a run posted; tests and the Action read it."""

    skipped: str | None = None
    review_id: int | None = None
    inline_posted: list[Finding] = field(default_factory=list)
    inline_rejected: bool = False
    summary_comment_id: int | None = None
    check_run_id: int | None = None
    conclusion: str | None = None
    result: ReviewResult | None = None
    resolved_threads: int = 0
    context_paths: list[str] = field(default_factory=list)  # files fetched as review context (App mode)


async def fetch_diff(api: RepoAPI, number: int, caps: DiffCaps) -> CappedDiff:
    """The PR diff under the diff cap; on 406 "too large", the paginated files list (a missing patch
    stays named). Files beyond the cap are never parsed and are named with the cap's reason."""
    text = await api.get_diff(number)
    if text is not None:
        return apply_caps(index_diff(text), caps)
    return apply_caps(index_file_rows(await api.list_files(number)), caps)


def content_paths(files: Sequence[FileDiff]) -> list[str]:
    """Files whose full new text the engine needs: changed Python (static checks, biggest first),
    design docs under the default design paths (the repo config arrives in the same query), and the
    other changed text files (YAML/TOML/JSON first), against which suggestions on them are verified."""
    changed = [f for f in files if f.path.endswith((".py", ".pyi")) and f.added_lines]
    changed.sort(key=lambda f: -len(f.added_lines))
    docs = design_doc_files(files, DesignDocsConfig().paths)
    paths = [f.path for f in changed[:MAX_CONTENT_FILES]] + [f.path for f in docs[:MAX_DESIGN_DOCS]]
    data = [
        f
        for f in files
        if f.added_lines
        and len(f.added_lines) <= MAX_DATA_ADDED_LINES
        and not f.path.endswith((".py", ".pyi"))
        and f.path not in paths
    ]
    data.sort(key=lambda f: (not f.path.lower().endswith(DATA_SUFFIXES), -len(f.added_lines)))
    return paths + [f.path for f in data[:MAX_DATA_FILES]]


def conclusion_for(findings: Sequence[Finding], threshold: Severity | None) -> str:
    """neutral without a threshold; failure when a finding reaches it, success otherwise."""
    if threshold is None:
        return "neutral"
    return "failure" if exceeds_threshold(findings, threshold) else "success"


def inline_comments(findings: Sequence[Finding], sha: str, *, agent_prompts: bool = True) -> list[dict[str, object]]:
    """One review comment per anchor: findings on the same lines share one comment (never a pile of
    comments on one line); its marker lists every fingerprint in it."""
    groups: dict[tuple[str | None, int | None, int | None, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.path, f.start_line, f.line, str(f.side)), []).append(f)
    comments: list[dict[str, object]] = []
    for (path, start_line, line, side), group in groups.items():
        named = [(f.fingerprint, str(f.source)) for f in group]
        named += [(alias, str(Source.MODEL)) for f in group for alias in f.fused_fingerprints]
        marker = {"fps": [fp for fp, _ in named], "srcs": [src for _, src in named], "sha": sha}
        body = "\n\n---\n\n".join(render_inline_comment(f, agent_prompt=agent_prompts) for f in group)
        comment: dict[str, object] = {
            "path": path,
            "line": line,
            "side": side,
            "body": body + "\n" + render_marker("finding", marker),
        }
        if start_line is not None and line is not None and start_line < line:
            comment["start_line"] = start_line
            comment["start_side"] = side
        comments.append(comment)
    return comments


class PullRequestReview:
    """One run of a PR review job; ``run`` returns what was posted."""

    def __init__(self, deps: Deps, job: Job) -> None:
        self.deps = deps
        self.job = job
        owner, _, repo = job.repo.partition("/")
        self.api = deps.factory.repo_api(owner, repo, installation_id=job.installation_id)
        self.log = structlog.get_logger("archbot.pr").bind(repo=job.repo, pr=job.number, sha=(job.head_sha or "")[:12])
        self.report = PostReport()
        self.caps = diff_caps(deps.settings)

    async def run(self) -> PostReport:
        capped = await fetch_diff(self.api, self.job.number, self.caps)
        files = capped.files
        self._log_cap(capped)
        ctx = await self.api.pr_context(
            self.job.number,
            config_path=self.deps.settings.archbot_config_path,
            paths=content_paths(files),
            head_sha=self.job.head_sha,
            check_name=CHECK_NAME,
            check_app_id=self.deps.identity.app_id,
        )
        self._note_degraded(ctx)
        head = self.job.head_sha or ctx.head_sha
        if ctx.state != "OPEN":
            return self._skip("pull request is not open")
        if ctx.head_sha != head:
            raise JobSupersededError(f"head moved to {ctx.head_sha[:12]}")
        loaded = parse_repo_config(ctx.config_text)
        reason = self._policy_skip(ctx, loaded.config)
        if reason:
            return self._skip(reason)
        summary = own_marked_comment(ctx.comments, self.deps.identity, SUMMARY)
        previous = summary.data if summary is not None else {}
        if previous.get("sha") == head and previous.get("done") and not self.job.full:
            await self._finish_orphan_check(ctx, previous, head)
            return self._skip("already reviewed at this sha")
        await self._start_check(head, ctx)
        try:
            await self._review_and_post(
                ctx=ctx, capped=capped, loaded=loaded, summary=summary, previous=previous, head=head
            )
        except (ServerError, RateLimited):
            raise  # transient: the worker retries the whole job, which is idempotent (markers)
        except (LLMError, GitHubError) as exc:
            await self._not_reviewed(exc, summary, previous, head)
        self.deps.check_runs.pop(self.job.idempotency_key, None)
        return self.report

    async def _start_check(self, head: str, ctx: PRContext) -> None:
        """Use the check run this job already started, else start one.

        A retry in this process knows its run (``deps.check_runs``).  After a process died mid-review
        the new one takes the newest unfinished "archbot" run of archbot's OWN App on the head commit
        (read by the same PR-context query).  In Action token mode (no App id) runs belong to GitHub
        Actions, shared by every workflow, so none is taken over."""
        known = self.deps.check_runs.get(self.job.idempotency_key)
        app_id = self.deps.identity.app_id
        if known is None and app_id is not None:
            unfinished = [
                r.id for r in ctx.check_runs if r.name == CHECK_NAME and r.status != "COMPLETED" and r.app_id == app_id
            ]
            known = max(unfinished, default=None)
            if known is not None:
                self.log.info("check_run_reused", check_run_id=known)
        if known is None:
            known = await self.api.create_check_run(
                name=CHECK_NAME, head_sha=head, external_id=self.job.idempotency_key[:200]
            )
        self.report.check_run_id = known
        self.deps.check_runs[self.job.idempotency_key] = known

    def _reviewed_at(self, ctx: PRContext, head: str) -> bool:
        """archbot's own review for ``head`` is already on the PR (a run that died after posting it, e.g.
        the body-only review after a 422, whose findings have no threads to recognise them by)."""
        for submitted in ctx.reviews:
            if is_ours(submitted.author, self.deps.identity):
                data = parse_marker(submitted.body, "review")
                if data is not None and data.get("sha") == head:
                    return True
        return False

    async def _finish_orphan_check(self, ctx: PRContext, previous: dict[str, object], head: str) -> None:
        """The summary says ``head`` was reviewed, yet archbot's own check run on it is unfinished: the run
        that posted the summary died before completing it. Complete it (with the conclusion the summary
        recorded) instead of leaving it in progress forever."""
        app_id = self.deps.identity.app_id
        if app_id is None:
            return
        unfinished = [
            r.id for r in ctx.check_runs if r.name == CHECK_NAME and r.status != "COMPLETED" and r.app_id == app_id
        ]
        if not unfinished:
            return
        conclusion = previous.get("conclusion")
        if conclusion not in ("success", "failure", "neutral", "skipped"):
            conclusion = "neutral"
        run_id = max(unfinished)
        self.log.info("check_run_completed_after_restart", check_run_id=run_id)
        await self.api.update_check_run(
            run_id,
            status="completed",
            conclusion=str(conclusion),
            title=f"Reviewed {head[:12]}: see the summary comment",
            summary="The review finished; its findings are in archbot's summary comment on the pull request.",
        )
        self.report.check_run_id = run_id
        self.report.conclusion = str(conclusion)

    async def give_up(self, reason: str) -> None:
        """The job failed for good (worker gave up): say so on the check run and in the summary."""
        ctx = await self.api.pr_context(
            self.job.number,
            config_path=self.deps.settings.archbot_config_path,
            head_sha=self.job.head_sha,
            check_name=CHECK_NAME,
            check_app_id=self.deps.identity.app_id,
        )
        self._note_degraded(ctx)
        head = self.job.head_sha or ctx.head_sha
        if ctx.head_sha != head:
            return
        await self._start_check(head, ctx)
        summary = own_marked_comment(ctx.comments, self.deps.identity, SUMMARY)
        await self._not_reviewed(RuntimeError(reason), summary, summary.data if summary else {}, head)
        self.deps.check_runs.pop(self.job.idempotency_key, None)

    def _note_degraded(self, ctx: PRContext) -> None:
        """GitHub refused an optional part of the context (the check-run lookup): say so once, count it,
        and go on (a restarted job then starts a new check run instead of taking over its own)."""
        for item in ctx.degraded:
            self.log.warning("github_context_degraded", part=item.part, reason=item.reason, github_message=item.message)
            self.deps.metrics.github_degraded.labels(part=item.part, reason=item.reason).inc()

    def _skip(self, reason: str) -> PostReport:
        self.log.info("review_skipped", reason=reason)
        self.report.skipped = reason
        return self.report

    def _policy_skip(self, ctx: PRContext, config: RepoConfig) -> str | None:
        if not config.review.enabled:
            return "reviews disabled by .github/archbot.yml"
        if ctx.draft and not config.review.drafts and not self.job.full:
            return "draft pull request (set review.drafts to review drafts)"
        if ctx.author_is_bot and not config.review.bots and not self.job.full:
            return "pull request opened by a bot"
        return None

    async def _review_and_post(
        self,
        *,
        ctx: PRContext,
        capped: CappedDiff,
        loaded: LoadedConfig,
        summary: OwnComment | None,
        previous: dict[str, object],
        head: str,
    ) -> None:
        config = loaded.config
        files = capped.files
        reviewed_diff, incremental_from = await self._files_to_review(capped, previous, head)
        review_files = reviewed_diff.files
        cap_note = reviewed_diff.note()
        models = self.deps.models
        model = models.model(config.model) if models is not None else None
        over_budget = await self._over_budget(previous) if model is not None else None
        if over_budget:
            model = None  # the deterministic findings still run and post; the model is skipped
        repo_files = self.deps.repo_files
        if repo_files is None and model is not None:
            repo_files = await self._fetch_context(ctx, head, review_files)
        request = ReviewRequest(
            anchor_files=files,
            review_files=review_files,
            contents=ctx.file_texts,
            config=config,
            title=ctx.title,
            body=ctx.body,
            repo_files=repo_files if repo_files is not None else NO_REPO_FILES,
        )
        # ruff runs as a subprocess and the Action's context is read from its checkout: off the loop
        prepared = await asyncio.to_thread(prepare, request)
        result = await review(request, model=model, prepared=prepared)
        if over_budget:
            result = result.model_copy(update={"errors": [*result.errors, f"skipped: budget ({over_budget})"]})
        await record_spend(self.deps, self.job, result.usage)
        self._count_suggestions(result)
        calls = self.deps.metrics.review_model_calls
        calls.labels(outcome="ok").inc(result.model_calls - result.model_calls_failed)
        calls.labels(outcome="error").inc(result.model_calls_failed)
        self.report.result = result
        threads = thread_state(ctx.threads, self.deps.identity, head)
        earlier = {str(fp) for fp in _strings(previous.get("inline"))} | set(threads.posted)
        # Markers written by an older version name findings by their legacy fingerprint: recognised()
        # maps both forms to the findings' current fingerprints (no duplicate post, no false "new").
        known = recognised(result.findings, earlier)
        dismissed = recognised(result.findings, threads.dismissed)
        fresh = [
            f
            for f in result.findings
            if f.placement is Placement.INLINE and f.fingerprint not in known and f.fingerprint not in dismissed
        ]
        to_post = fresh[: config.review.max_inline_comments]
        if to_post and not threads.posted_for_sha and not self._reviewed_at(ctx, head):
            await self._post_review(to_post, head, agent_prompts=config.review.agent_prompts)
        elif threads.posted_for_sha:
            for_sha = recognised(result.findings, threads.posted_for_sha)
            self.report.inline_posted = [f for f in fresh if f.fingerprint in for_sha]
        posted_now = {f.fingerprint for f in self.report.inline_posted}
        inline_all = sorted(earlier | known | posted_now)
        threshold = config.review.severity_threshold or self.deps.settings.archbot_severity_threshold
        conclusion = conclusion_for(result.findings, threshold)
        marker = {
            "sha": head,
            "base": ctx.base_sha,
            "done": True,
            "conclusion": check_verdict(result, conclusion)[0],
            "fps": sorted({f.fingerprint for f in result.findings}),
            "inline": inline_all,
            "tokens": _int(previous.get("tokens")) + result.usage.total,
            "v": 1,
        }
        notice = _cap_notice(cap_note)
        body = notice + render_summary(
            result,
            head_sha=head,
            base_sha=ctx.base_sha,
            posted_inline=inline_all,
            incremental_from=incremental_from,
            marker_data=marker,
            max_chars=SUMMARY_MAX_CHARS - len(notice),
        )
        if loaded.problem:
            body = _config_warning(self.deps.settings.archbot_config_path, loaded.problem) + body
        await self._upsert_summary(summary, body)
        await self._complete_check(result, conclusion, threshold, cap_note)
        namespaces = {"static", "model"} if model is not None else {"static"}
        reviewed = {f.path for f in review_files} | (
            {t.comments[0].path for t in ctx.threads if t.comments} if incremental_from is None else set()
        )
        await self._reconcile(ctx, threads, result, reviewed, namespaces)

    def _count_suggestions(self, result: ReviewResult) -> None:
        for finding in result.findings:
            if finding.fix is not None:
                origin = "deterministic" if finding.fix.deterministic else "model"
                self.deps.metrics.suggestions.labels(check=finding.fix.check.value, origin=origin).inc()

    async def _fetch_context(self, ctx: PRContext, head: str, files: Sequence[FileDiff]) -> RepoFiles:
        """App mode: the modules the changed files import (those the changed lines use first), in ONE
        GraphQL query, then at most one more for the modules those import (the context builder's
        depth 2), plus the changed files' own texts. Best-effort: GraphQL disabled or failing means a
        review with less context (one log line)."""
        changed = {path: text for path, text in ctx.file_texts.items() if text is not None}
        settings = self.deps.settings
        max_files, max_bytes = settings.archbot_context_max_files, settings.archbot_context_max_bytes
        focus = {f.path: "\n".join(line.text for h in f.hunks for line in h.lines if line.kind != " ") for f in files}
        wanted = context_paths(changed, limit=max_files * CANDIDATES_PER_CONTEXT_FILE, focus=focus)
        fetched: dict[str, str] = {}
        if not wanted or max_files == 0:
            pass
        elif not self.api.graphql_enabled:
            self.log.info("review_context_skipped", reason="graphql disabled")
        else:
            fetched = await self._context_round(head, wanted, max_files, max_bytes)
            spent = sum(len(text.encode("utf-8")) for text in fetched.values())
            asked = set(wanted) | set(changed)
            limit = max_files * CANDIDATES_PER_CONTEXT_FILE
            deeper = [p for p in context_paths(fetched, limit=limit) if p not in asked]
            if fetched and deeper and len(fetched) < max_files and spent < max_bytes:
                fetched |= await self._context_round(head, deeper, max_files - len(fetched), max_bytes - spent)
        self.report.context_paths = sorted(fetched)
        return MappedRepoFiles({**fetched, **changed})

    async def _context_round(self, head: str, wanted: Sequence[str], max_files: int, max_bytes: int) -> dict[str, str]:
        try:
            return await self.api.context_blobs(head, wanted, max_files=max_files, max_bytes=max_bytes)
        except GitHubError as exc:
            self.log.warning("review_context_failed", error=exc.__class__.__name__, asked=len(wanted))
            return {}

    async def _over_budget(self, previous: dict[str, object]) -> str | None:
        """Why the model must not be called for this run (token caps per PR and per installation/day)."""
        settings = self.deps.settings
        if _int(previous.get("tokens")) >= settings.archbot_pr_token_budget:
            return f"this pull request used its {settings.archbot_pr_token_budget:,} tokens"
        ledger = self.deps.ledger
        if ledger is None:
            return None
        if await daily_budget_spent(self.deps, self.job):
            return f"the installation's daily {settings.archbot_daily_token_budget:,} tokens are spent"
        limit = settings.archbot_reviews_per_pr_per_hour
        cadence_key = f"review:{self.job.repo}#{self.job.number}"
        if not await ledger.try_record(cadence_key, since=self.deps.clock() - 3600, limit=limit):
            return f"at most {limit} model reviews per pull request per hour"
        return None

    async def _files_to_review(
        self, capped: CappedDiff, previous: dict[str, object], head: str
    ) -> tuple[CappedDiff, str | None]:
        """Only the commits since the last reviewed sha (under the same diff cap); everything after a
        force-push or a /review."""
        last = previous.get("sha")
        if self.job.full or not isinstance(last, str) or last == head:
            return capped, None
        compare = await self.api.compare_diff(last, head)
        if compare is None:  # the old sha is gone (force-push): review everything again
            self.log.info("incremental_base_gone", base=last[:12])
            return capped, None
        increment = apply_caps(index_diff(compare), self.caps)
        self._log_cap(increment)
        return increment, last

    def _log_cap(self, capped: CappedDiff) -> None:
        if capped.over:
            self.log.warning(
                "diff_capped",
                files=capped.wanted_files,
                lines=capped.wanted_lines,
                reviewed_files=capped.reviewed_files,
                not_reviewed=len(capped.beyond),
            )

    async def _post_review(self, findings: list[Finding], head: str, *, agent_prompts: bool = True) -> None:
        body = (
            f"archbot found {len(findings)} new issue(s) in this push; details in the comments below and in the "
            f"summary.\n" + render_marker("review", {"sha": head})
        )
        try:
            self.report.review_id = await self.api.create_review(
                self.job.number,
                commit_id=head,
                body=body,
                comments=inline_comments(findings, head, agent_prompts=agent_prompts),
            )
            self.report.inline_posted = findings
        except Unprocessable:
            # GitHub rejects the whole review for one bad anchor and does not say which one: post the
            # findings in the review body instead, once, and keep them in the summary (DESIGN).
            self.report.inline_rejected = True
            self.log.warning("review_rejected_422", comments=len(findings))
            listed = "\n".join(f"- **{f.severity}** `{f.path}:{f.line}` {f.title}" for f in findings)
            self.report.review_id = await self.api.create_review(
                self.job.number,
                commit_id=head,
                body=f"archbot could not place these comments inline:\n\n{listed}\n"
                + render_marker("review", {"sha": head}),
                comments=[],
            )

    async def _upsert_summary(self, summary: OwnComment | None, body: str) -> None:
        if summary is not None:
            await self.api.update_comment(summary.comment.id, body)
            self.report.summary_comment_id = summary.comment.id
        else:
            self.report.summary_comment_id = await self.api.create_comment(self.job.number, body)

    async def _complete_check(
        self, result: ReviewResult, conclusion: str, threshold: Severity | None, cap_note: str = ""
    ) -> None:
        if self.report.check_run_id is None:
            return
        reason = f"severity threshold: {threshold}" if threshold else "no severity threshold configured (neutral)"
        reason += f". {cap_note}" if cap_note else ""
        output = render_check_output(result, conclusion_reason=reason)
        conclusion, title = check_verdict(result, conclusion, output["title"])
        await self.api.update_check_run(
            self.report.check_run_id,
            status="completed",
            conclusion=conclusion,
            title=title,
            summary=output["summary"] + ("\n\nComment `/review` to retry." if result.errors else ""),
            annotations=render_annotations(result.findings),
        )
        self.report.conclusion = conclusion

    async def _reconcile(
        self,
        ctx: PRContext,
        state: ThreadState,
        result: ReviewResult,
        reviewed_paths: set[str],
        namespaces: set[str],
    ) -> None:
        """Resolve archbot's own threads whose finding is gone, in the files this run looked at and in
        the namespaces (static, model) that ran; best-effort: a failure never loses the review."""
        current = all_fingerprints(result.findings)  # a thread posted under a legacy fingerprint too
        by_thread: dict[str, list[str]] = {}
        for fp, thread in state.posted.items():
            by_thread.setdefault(thread.id, []).append(fp)
        for thread in ctx.threads:
            fps = by_thread.get(thread.id, [])
            if not fps or not thread.id or thread.is_resolved or has_human_reply(thread, self.deps.identity):
                continue
            gone = all(fp not in current and state.namespace.get(fp, "model") in namespaces for fp in fps)
            if not gone or thread.comments[0].path not in reviewed_paths:
                continue
            try:
                await self.api.resolve_thread(thread.id)
                self.report.resolved_threads += 1
            except GitHubError as exc:
                self.log.warning("reconcile_failed", error=exc.__class__.__name__)

    async def _not_reviewed(
        self, exc: Exception, summary: OwnComment | None, previous: dict[str, object], head: str
    ) -> None:
        if isinstance(exc, SpendLimitError):
            reason = "model spend limit reached"
        elif isinstance(exc, RuntimeError):
            reason = str(exc)
        else:
            reason = f"{exc.__class__.__name__}: {exc}"
        self.log.warning("review_failed", error=exc.__class__.__name__)
        result = ReviewResult(errors=[f"not reviewed: {reason}"])
        marker = {**{k: v for k, v in previous.items() if k != "done"}, "failed_sha": head, "v": 1}
        body = render_summary(result, head_sha=head, marker_data=marker)
        try:
            await self._upsert_summary(summary, body)
        finally:
            if self.report.check_run_id is not None:
                output = render_check_output(result, conclusion_reason=f"not reviewed: {reason}")
                await self.api.update_check_run(
                    self.report.check_run_id,
                    status="completed",
                    conclusion="skipped",
                    title=f"Not reviewed: {reason}"[:200],
                    summary=output["summary"] + "\n\nComment `/review` to retry.",
                )
                self.report.conclusion = "skipped"


def check_verdict(result: ReviewResult, conclusion: str, title: str = "") -> tuple[str, str]:
    """The check run's conclusion and title: ``skipped`` when the budget or the model kept the model out
    (deterministic findings still stand), else ``conclusion``; the title says what was partly missed."""
    budget = next((e for e in result.errors if e.startswith("skipped: budget")), None)
    if budget:
        return "skipped", budget[:200]
    if result.model_calls and result.model_calls_failed == result.model_calls:
        why = result.errors[0] if result.errors else "model unavailable"  # the model never answered: say so
        return "skipped", f"Not reviewed by the model: {why}"[:200]
    if result.model_calls_failed:
        title = f"Partly reviewed: {result.model_calls_failed} of {result.model_calls} model calls failed"
        declined = sum(1 for entry in result.not_reviewed if entry.reason == DECLINED_REASON)
        if declined:
            title += f"; the model declined {declined} file(s)"
    return conclusion, title


def _cap_notice(note: str) -> str:
    """The diff cap's note as a callout at the top of the summary ("" when the diff was under the cap)."""
    return f"> [!NOTE]\n> {note}\n\n" if note else ""


def _config_warning(path: str, problem: str) -> str:
    return f"> [!WARNING]\n> `{path}` on the default branch is invalid, so the defaults were used: {problem}\n\n"


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


async def review_pull_request(deps: Deps, job: Job) -> PostReport:
    return await PullRequestReview(deps, job).run()
