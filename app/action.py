"""``archbot action``: the App's router and pipeline, run once and synchronously inside a GitHub workflow.

``action.yml`` maps the action's inputs to environment variables; this module reads the workflow's
event (``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH``, ``GITHUB_REPOSITORY``), turns it into jobs with the
same router the webhook receiver uses, and runs each job right away (no queue, no worker) with the
workflow's ``GITHUB_TOKEN`` against ``GITHUB_API_URL``. With a token, archbot writes as
``github-actions[bot]``, so markers from that login are trusted in this mode (DESIGN Decision 8).

What it leaves behind:

* on GitHub, what the App would post: one review, the sticky summary, the check run, plan comments;
* a job summary (``$GITHUB_STEP_SUMMARY``), the SARIF file when ``ARCHBOT_SARIF_FILE`` is set, and the
  step outputs ``findings``, ``highest-severity`` and ``sarif-file`` (``$GITHUB_OUTPUT``);
* the exit code (DESIGN Decision 12): 0 unless ``fail-on`` tripped (1) or archbot itself failed
  (1, with one line saying why; 2 for settings errors, from the CLI).

Safety in a workflow:

* A pull request from a fork under ``pull_request`` has a read-only token and no secrets: archbot
  says "skipped: ..." and makes no request at all. (Under ``pull_request_target`` it reviews: archbot
  never runs the PR's code, it reads the diff through the API, so it needs no checkout of the PR head.)
* Everything archbot prints (titles, findings, GitHub's error text) goes out between
  ``::stop-commands::<random token>`` and ``::<token>::``, so untrusted text can never become a
  workflow command; the only commands archbot issues (``::notice::``/``::error::`` annotations) are
  written after that, escaped.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import structlog

from app import __version__
from app.events import Event, EventParseError, parse_event
from app.github.client import GitHubFactory, SharedTransport
from app.github.errors import Forbidden, GitHubError, NotFound, Unauthorized
from app.handlers import build_router
from app.jobs import Job, JobKind
from app.logs import configure_logging
from app.pipeline.deps import Deps
from app.pipeline.issue_jobs import run_command, run_issue_review
from app.pipeline.model_provider import ModelProvider, build_model_provider
from app.pipeline.pr_review import PostReport, review_pull_request
from app.queue.base import JobSupersededError
from app.review.models import SEVERITY_ORDER, Finding, ReviewResult, Severity
from app.review.render import render_markdown_review, render_sarif
from app.review.sanitize import redact_secrets, sanitize_markdown
from app.routing import HandlerContext, Mode
from app.settings import Settings, SettingsError
from app.worktree_files import WorkingTreeFiles

ALREADY_REVIEWED = "already reviewed at this sha"
FORK_SKIP = (
    "skipped: pull request from a fork. Under `pull_request` its token is read-only and secrets are "
    "absent, so archbot posts nothing here. To review PRs from forks, install the archbot GitHub App."
)
PERMISSIONS_HINT = (
    "the workflow's token needs `permissions:` contents: read, pull-requests: write, checks: write, issues: write"
)
MAX_LOGGED_FINDINGS = 50
MAX_LOG_TITLE = 200


class WorkflowLog:
    """Writes to the job log with workflow commands disabled, so untrusted text printed by archbot
    (titles, findings, paths) can never become a ``::set-output`` or ``::add-mask`` command.

    Annotations (``notice``/``warning``/``error``) are collected and issued only after commands are re-enabled,
    with the workflow-command escaping applied."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._token = secrets.token_hex(16)
        self._annotations: list[tuple[str, str]] = []

    def __enter__(self) -> WorkflowLog:
        self._out.write(f"::stop-commands::{self._token}\n")
        self._out.flush()
        return self

    def __exit__(self, *_: object) -> None:
        self._out.flush()
        self._out.write(f"::{self._token}::\n")
        for level, message in self._annotations:
            self._out.write(f"::{level} title=archbot::{escape_command_data(message)}\n")
        self._out.flush()

    def line(self, text: str) -> None:
        """One line of untrusted-safe text: secrets redacted (a PR title can hold a token; the job log is
        readable by everyone who can read the repository) and the resume token never in it."""
        self._out.write(redact_secrets(text).replace(self._token, "[token]") + "\n")

    def annotate(self, level: str, message: str) -> None:
        """A ``notice``, ``warning`` or ``error`` annotation, issued when the block ends; also logged now."""
        message = redact_secrets(message)
        self.line(f"archbot: {message}")
        self._annotations.append((level, message))


def escape_command_data(text: str) -> str:
    """The escaping the runner applies to a workflow command's message (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def fork_pull_request(payload: dict[str, Any]) -> bool:
    """A PR whose head lives in another repository (under ``pull_request``, a read-only token)."""
    pr = payload.get("pull_request")
    if not isinstance(pr, dict):
        return False
    head_repo = _dict(_dict(pr.get("head")).get("repo"))
    base_repo = _dict(_dict(pr.get("base")).get("repo"))
    if pr.get("head") and not head_repo:  # a deleted head repository can only be a fork's
        return True
    head_name = head_repo.get("full_name")
    return bool(head_name) and head_name != base_repo.get("full_name")


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def highest(findings: Sequence[Finding]) -> Severity | None:
    """The worst severity among ``findings`` (None when there are none)."""
    return min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__, default=None)


def gate(findings: Sequence[Finding], fail_on: str) -> bool:
    """True when the workflow step should fail: a finding at or above ``fail-on`` (default none);
    findings in test paths never count."""
    if fail_on == "none":
        return False
    limit = SEVERITY_ORDER[Severity(fail_on)]
    return any(SEVERITY_ORDER[f.severity] <= limit for f in findings if not f.in_test_path)


@dataclass
class Outcome:
    """What one ``archbot action`` run did: the exit code and what goes to the summary and outputs."""

    exit_code: int = 0
    result: ReviewResult | None = None
    summary: list[str] = field(default_factory=list)  # Markdown blocks for $GITHUB_STEP_SUMMARY
    sarif_path: Path | None = None


async def run_action(
    settings: Settings,
    *,
    out: TextIO = sys.stdout,
    factory: GitHubFactory | None = None,
    configure_logs: bool = True,
) -> int:
    """Run the workflow's event through archbot; the process exit code.

    ``factory`` replaces the token client (tests); ``configure_logs`` sends archbot's JSON log lines
    to ``out`` too, inside the no-commands block (the CLI always does)."""
    with WorkflowLog(out) as log:
        if configure_logs:  # every log line, archbot's and the libraries', goes inside the block
            configure_logging(settings.archbot_log_level, fmt=settings.archbot_log_format or "json", stream=out)
        outcome = Outcome()
        try:
            await _handle_event(settings, log, outcome, factory)
        except GitHubError as exc:
            _fail(log, outcome, _github_failure(exc))
        except SettingsError:
            raise
        except Exception as exc:  # a bug: its traceback may quote untrusted text, so it stays in the block
            logger = structlog.get_logger("archbot.action")
            logger.exception("action_failed")
            _fail(log, outcome, f"internal error ({type(exc).__name__}); the log above has the traceback")
        try:
            _finish(settings, outcome, log)
        except OSError as exc:  # an unwritable SARIF, summary or output path
            outcome.exit_code = 1
            log.annotate("error", f"cannot write {exc.filename}: {exc.strerror}")
    return outcome.exit_code


def _read_event(settings: Settings) -> tuple[str, dict[str, Any]]:
    if not settings.github_event_name or settings.github_event_path is None or not settings.github_repository:
        raise SettingsError(
            "`archbot action` runs inside GitHub Actions: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH "
            "and GITHUB_REPOSITORY must be set"
        )
    try:
        payload = json.loads(settings.github_event_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"GITHUB_EVENT_PATH cannot be read: {exc.strerror}") from None
    except ValueError:
        raise SettingsError("GITHUB_EVENT_PATH does not hold JSON") from None
    if not isinstance(payload, dict):
        raise SettingsError("GITHUB_EVENT_PATH does not hold a webhook payload (not a JSON object)")
    repo = _dict(payload.get("repository")).get("full_name")
    if repo is not None and str(repo).lower() != settings.github_repository.lower():
        raise SettingsError("the event's repository is not GITHUB_REPOSITORY")
    return settings.github_event_name, payload


async def _handle_event(settings: Settings, log: WorkflowLog, outcome: Outcome, factory: GitHubFactory | None) -> None:
    name, payload = _read_event(settings)
    try:
        event = parse_event(name.removesuffix("_target"), payload)
    except EventParseError as exc:
        raise SettingsError(f"GITHUB_EVENT_PATH does not hold a webhook payload: {exc}") from None
    log.line(f"archbot {__version__}: {name}/{event.action or '-'} on {settings.github_repository}{_subject(event)}")
    if name == "pull_request" and fork_pull_request(payload):
        _skip(log, outcome, FORK_SKIP)
        return
    if settings.github_token is None:
        _skip(log, outcome, "skipped: no GITHUB_TOKEN (the `github-token` input is empty); nothing was posted.")
        return
    jobs = await build_router().dispatch(event, HandlerContext(mode=Mode.ACTION))
    if not jobs:
        log.line(f"archbot: nothing to do for {name}/{event.action or '-'}.")
        outcome.summary.append(f"archbot: nothing to do for `{name}` / `{event.action or '-'}`.")
        return
    transport = SharedTransport()
    models = build_model_provider(settings)
    try:
        factory = factory or GitHubFactory(
            api_url=settings.github_api_url,
            timeout=settings.archbot_github_timeout,
            token=settings.github_token.get_secret_value(),
            async_transport=transport,
        )
        deps = Deps(
            settings=settings,
            factory=factory,
            identity=await factory.identify(),
            models=models,
            action_mode=True,
            repo_files=workspace_files(settings.github_workspace),
        )
        if models is None:
            log.line("archbot: no ANTHROPIC_API_KEY: posting the deterministic findings only.")
        for job in jobs:
            await _run_job(deps, job, log, outcome)
    finally:
        await transport.shutdown()
        await _close_models(models)


def workspace_files(workspace: Path | None) -> WorkingTreeFiles | None:
    """The workflow's checkout (``GITHUB_WORKSPACE``) as the review context's source, or None when
    there is none (no checkout step): the review then fetches context through the API like the App."""
    if workspace is None or not workspace.is_dir():
        return None
    try:
        has_files = any(not entry.name.startswith(".") for entry in workspace.iterdir())
    except OSError:
        return None
    return WorkingTreeFiles(workspace) if has_files else None


def _fail(log: WorkflowLog, outcome: Outcome, message: str) -> None:
    outcome.exit_code = 1
    log.annotate("error", message)
    outcome.summary.append(f"**archbot failed:** {sanitize_markdown(message)}")


def _subject(event: Event) -> str:
    """`` #7: <title>`` of the PR or issue the event is about (untrusted: printed inside the block)."""
    if event.pull_request is not None:
        return f" #{event.pull_request.number}: {event.pull_request.title[:MAX_LOG_TITLE]}"
    if event.issue is not None:
        return f" #{event.issue.number}: {event.issue.title[:MAX_LOG_TITLE]}"
    return ""


def _skip(log: WorkflowLog, outcome: Outcome, reason: str) -> None:
    log.annotate("notice", reason)
    outcome.summary.append(f"archbot {sanitize_markdown(reason)}")


async def _run_job(deps: Deps, job: Job, log: WorkflowLog, outcome: Outcome) -> None:
    where = f"{job.repo}#{job.number}"
    if job.kind is JobKind.REVIEW_PR:
        report = await _review(deps, job, log)
        if report is None:
            return
        if report.skipped:
            _skip(log, outcome, f"skipped: {report.skipped}")
        elif report.result is None and report.conclusion == "skipped":  # the review itself failed
            _fail(log, outcome, f"{where} was not reviewed; the check run and the summary comment say why")
        if report.result is not None:
            outcome.result = report.result
            _log_review(log, report)
            if report.result.errors:
                first = " ".join(report.result.errors[0].split())[:300]
                log.annotate("warning", f"{len(report.result.errors)} part(s) of the review failed, e.g. {first}")
        return
    if job.kind is JobKind.REVIEW_ISSUE:
        await run_issue_review(deps, job)
        log.line(f"archbot: handled the issue event of {where}.")
        outcome.summary.append(f"archbot: design review of {where}, if it carries a design-doc label.")
        return
    if job.kind is JobKind.THREAD_REPLY:
        from app.pipeline.thread_jobs import run_thread_reply

        what = await run_thread_reply(deps, job)
        log.line(f"archbot: reply in a review thread of {where}: {what}.")
        outcome_line = f"archbot: reply in a review thread of {where}: {sanitize_markdown(what)}."
        outcome.summary.append(outcome_line)
        return
    command = str(job.data.get("command", ""))
    await run_command(deps, job)
    log.line(f"archbot: handled /{command} on {where}.")
    outcome.summary.append(f"archbot ran `/{sanitize_markdown(command)}` on {where}.")


async def _review(deps: Deps, job: Job, log: WorkflowLog) -> PostReport | None:
    """The PR review; a run on an already reviewed sha is repeated in full when ``fail-on`` is set,
    so that re-running a failed job cannot turn the gate green without a review."""
    try:
        report = await review_pull_request(deps, job)
        if report.skipped == ALREADY_REVIEWED and deps.settings.archbot_fail_on != "none":
            log.line("archbot: already reviewed at this sha; reviewing again to apply `fail-on`.")
            report = await review_pull_request(deps, job.model_copy(update={"full": True}))
    except JobSupersededError as exc:
        log.annotate("notice", f"skipped: a newer push superseded this run ({exc}).")
        return None
    return report


def _log_review(log: WorkflowLog, report: PostReport) -> None:
    result = report.result
    if result is None:
        return
    posted = f"review with {len(report.inline_posted)} inline comment(s)" if report.review_id else "no new review"
    log.line(
        f"archbot: {len(result.findings)} finding(s), highest severity {highest(result.findings) or 'none'}; "
        f"posted {posted}, summary comment, check run ({report.conclusion or 'not completed'})."
    )
    ordered = sorted(result.findings, key=lambda f: SEVERITY_ORDER[f.severity])
    for f in ordered[:MAX_LOGGED_FINDINGS]:
        where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or "-")
        log.line(f"  [{f.severity}] {where} {' '.join(f.title.split())[:MAX_LOG_TITLE]}")
    if len(ordered) > MAX_LOGGED_FINDINGS:
        log.line(f"  ... and {len(ordered) - MAX_LOGGED_FINDINGS} more (see the summary comment).")


def _github_failure(exc: GitHubError) -> str:
    """One line: what GitHub said, and what to check."""
    status = f" {exc.status}" if exc.status else ""
    text = " ".join(str(exc).split())[:300] or type(exc).__name__
    message = f"GitHub answered{status}: {text}"
    if isinstance(exc, (Forbidden, NotFound)):
        message += f" ({PERMISSIONS_HINT})"
    elif isinstance(exc, Unauthorized):
        message += " (check the `github-token` input)"
    return message


async def _close_models(models: ModelProvider | None) -> None:
    if models is not None:
        await models.aclose()


def _finish(settings: Settings, outcome: Outcome, log: WorkflowLog) -> None:
    """SARIF, job summary, step outputs and the ``fail-on`` gate."""
    result = outcome.result
    if result is not None and settings.archbot_sarif_file is not None:
        path = settings.archbot_sarif_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(render_sarif(result, tool_version=__version__), indent=2), encoding="utf-8")
        outcome.sarif_path = path
        log.line(f"archbot: SARIF written to {path}.")
    if result is not None:
        outcome.summary.insert(0, render_markdown_review(result))
        if gate(result.findings, settings.archbot_fail_on):
            outcome.exit_code = max(outcome.exit_code, 1)
            log.annotate("error", f"failing the step: findings at or above `fail-on: {settings.archbot_fail_on}`.")
    if settings.github_step_summary is not None and outcome.summary:
        with settings.github_step_summary.open("a", encoding="utf-8") as fh:
            fh.write("\n\n".join(block.rstrip() for block in outcome.summary) + "\n")
    if settings.github_output is not None:
        findings = result.findings if result is not None else []
        write_outputs(
            settings.github_output,
            {
                "findings": str(len(findings)),
                "highest-severity": str(highest(findings) or "none"),
                "sarif-file": str(outcome.sarif_path or ""),
            },
        )


def write_outputs(path: Path, values: dict[str, str]) -> None:
    """Append step outputs in the multi-line form, with a random delimiter: a value cannot add outputs."""
    with path.open("a", encoding="utf-8") as fh:
        for name, value in values.items():
            delimiter = f"ARCHBOT_{secrets.token_hex(8)}"
            fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
