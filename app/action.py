"""``archbot action``: the same router and pipeline as the App, run once inside a GitHub workflow."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app import __version__
from app.events import EventParseError, parse_event
from app.github.client import GitHubFactory
from app.handlers import build_router
from app.jobs import Job, JobKind
from app.pipeline.deps import Deps, build_model_provider
from app.pipeline.issue_jobs import run_command, run_issue_review
from app.pipeline.pr_review import PostReport, review_pull_request
from app.review.models import SEVERITY_ORDER, Finding, ReviewResult, Severity
from app.review.render import render_markdown_review, render_sarif
from app.routing import HandlerContext, Mode
from app.settings import Settings, SettingsError


class WorkflowLog:
    """Writes to the job log with workflow commands disabled, so untrusted text printed by archbot
    (titles, findings, paths) can never become a ``::set-output`` or ``::add-mask`` command."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._token = secrets.token_hex(16)

    def __enter__(self) -> WorkflowLog:
        self._out.write(f"::stop-commands::{self._token}\n")
        return self

    def __exit__(self, *_: object) -> None:
        self._out.write(f"::{self._token}::\n")
        self._out.flush()

    def line(self, text: str) -> None:
        self._out.write(text.replace(self._token, "[token]") + "\n")


def fork_pull_request(payload: dict[str, object]) -> bool:
    """A PR whose head lives in another repository: under ``pull_request`` its token is read-only."""
    pr = payload.get("pull_request")
    if not isinstance(pr, dict):
        return False
    head_repo = (pr.get("head") or {}).get("repo") or {}
    base_repo = (pr.get("base") or {}).get("repo") or {}
    return bool(head_repo.get("full_name")) and head_repo.get("full_name") != base_repo.get("full_name")


def highest(findings: Sequence[Finding]) -> Severity | None:
    return min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__, default=None)


def gate(findings: Sequence[Finding], fail_on: str) -> bool:
    """True when the workflow step should fail: a finding at or above ``fail-on`` (default none)."""
    if fail_on == "none":
        return False
    limit = SEVERITY_ORDER[Severity(fail_on)]
    return any(SEVERITY_ORDER[f.severity] <= limit for f in findings)


def _write_outputs(settings: Settings, result: ReviewResult | None, sarif_path: Path | None) -> None:
    findings = result.findings if result else []
    top = highest(findings)
    if settings.github_output is not None:
        with settings.github_output.open("a", encoding="utf-8") as fh:
            fh.write(f"findings={len(findings)}\n")
            fh.write(f"highest-severity={top or 'none'}\n")
            fh.write(f"sarif-file={sarif_path or ''}\n")


async def run_action(settings: Settings, *, out: TextIO = sys.stdout, factory: GitHubFactory | None = None) -> int:
    """Run the workflow's event through archbot. Exit 0 unless archbot failed or ``fail-on`` tripped."""
    if not settings.github_event_name or settings.github_event_path is None or not settings.github_repository:
        raise SettingsError("`archbot action` runs inside GitHub Actions: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH "
                            "and GITHUB_REPOSITORY must be set")
    payload = json.loads(settings.github_event_path.read_text(encoding="utf-8"))
    with WorkflowLog(out) as log:
        if settings.github_event_name in ("pull_request", "pull_request_target") and fork_pull_request(payload):
            log.line("archbot: skipped: pull request from a fork — under `pull_request` the token is read-only and "
                     "secrets are absent. archbot makes no writes here; install the archbot GitHub App to review "
                     "fork PRs (never run `pull_request_target` with a checkout of the PR head).")
            _write_outputs(settings, None, None)
            return 0
        if settings.github_token is None:
            log.line("archbot: skipped: no GITHUB_TOKEN (set `github-token`); nothing was posted.")
            _write_outputs(settings, None, None)
            return 0
        try:
            event = parse_event(settings.github_event_name.removesuffix("_target"), payload)
        except EventParseError as exc:
            raise SettingsError(f"GITHUB_EVENT_PATH does not hold a webhook payload: {exc}") from None
        jobs = await build_router().dispatch(event, HandlerContext(mode=Mode.ACTION))
        if not jobs:
            log.line(f"archbot: nothing to do for {settings.github_event_name}/{event.action or '-'}.")
            _write_outputs(settings, None, None)
            return 0
        factory = factory or GitHubFactory(
            api_url=settings.github_api_url, timeout=settings.archbot_github_timeout,
            token=settings.github_token.get_secret_value(),
        )
        deps = Deps(settings=settings, factory=factory, identity=await factory.identify(),
                    models=build_model_provider(settings), action_mode=True)
        if deps.models is None:
            log.line("archbot: no ANTHROPIC_API_KEY: posting the deterministic findings only.")
        reports = [await _run(deps, job) for job in jobs]
        result = next((r.result for r in reports if r is not None and r.result is not None), None)
        for report in reports:
            if report is not None and report.skipped:
                log.line(f"archbot: skipped: {report.skipped}")
        sarif_path = _finish(settings, result)
        _write_outputs(settings, result, sarif_path)
        if result is not None:
            log.line(f"archbot: {len(result.findings)} finding(s); highest severity {highest(result.findings) or 'none'}.")
            if gate(result.findings, settings.archbot_fail_on):
                log.line(f"archbot: failing the step: findings at or above `fail-on: {settings.archbot_fail_on}`.")
                return 1
    return 0


async def _run(deps: Deps, job: Job) -> PostReport | None:
    if job.kind is JobKind.REVIEW_PR:
        return await review_pull_request(deps, job)
    if job.kind is JobKind.REVIEW_ISSUE:
        await run_issue_review(deps, job)
    else:
        await run_command(deps, job)
    return None


def _finish(settings: Settings, result: ReviewResult | None) -> Path | None:
    """The job summary and, when asked, the SARIF file."""
    if result is None:
        return None
    if settings.github_step_summary is not None:
        with settings.github_step_summary.open("a", encoding="utf-8") as fh:
            fh.write(render_markdown_review(result))
    if settings.archbot_sarif_file is None:
        return None
    settings.archbot_sarif_file.parent.mkdir(parents=True, exist_ok=True)
    settings.archbot_sarif_file.write_text(
        json.dumps(render_sarif(result, tool_version=__version__), indent=2), encoding="utf-8"
    )
    return settings.archbot_sarif_file
