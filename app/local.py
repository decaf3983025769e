"""``archbot review`` on a laptop: read a diff and the checkout, review, print one document.

stdout holds only the document (Markdown, JSON or SARIF); everything else — progress, the hint about
credentials, one line per kind of model failure — goes to stderr. Exit codes: 0 done, 1 a finding
at ``--fail-on`` or a failed model call, 2 usage or input errors.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from app import __version__
from app.diff_input import load_diff_files
from app.local_checkout import find_checkout
from app.pipeline.model_provider import build_model_provider
from app.repo_config import RepoConfig, parse_repo_config
from app.review.budget import Chunk, ReviewPlan
from app.review.diff import DiffParseError
from app.review.engine import ReviewRequest, prepare, review
from app.review.model_api import LLMError, ReviewModel
from app.review.models import SEVERITY_ORDER, CallFailure, ReviewResult, Severity
from app.review.render import render_markdown_review, render_sarif
from app.review.repo_files import NO_REPO_FILES
from app.review.report import build_report, call_plan
from app.settings import Settings
from app.worktree_files import WorkingTreeFiles

EXIT_OK = 0
EXIT_FINDINGS_OR_MODEL_ERRORS = 1
EXIT_USAGE = 2

NO_KEY_HINT = (
    "archbot: no model credentials, so this is the offline review (deterministic checks only).\n"
    "         Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, with ANTHROPIC_BASE_URL for a gateway)\n"
    "         for the architect's review; --dry-run shows what would be sent.\n"
)

# What a user can do about each kind of failed model call (the kinds are archbot's error classes).
FAILURE_ADVICE = {
    "LLMUnavailable": "check the network and ANTHROPIC_BASE_URL, then run again",
    "DeadlineExceeded": "the model was slow; run again, or raise ARCHBOT_REVIEW_DEADLINE",
    "SpendLimitError": "the organisation's spend limit is reached; raise it in the Anthropic console",
    "InvalidToolOutput": "the model's answer did not fit the review schema twice; run again",
    "ModelDeclined": "the model declined to review these files; review them by hand",
}
DEFAULT_ADVICE = "check ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) and ARCHBOT_MODEL, then run again"


class InputError(Exception):
    """The diff, the checkout or the config cannot be used; the message says which and why."""


def model_from_settings(settings: Settings, stack: AsyncExitStack, model_name: str | None = None) -> ReviewModel | None:
    """The model client (closed with ``stack``), or None without credentials (the offline review)."""
    provider = build_model_provider(settings)
    if provider is None:
        return None
    stack.push_async_callback(provider.aclose)
    return provider.model(model_name)


def render_call_plan(plan: ReviewPlan) -> str:
    """The model calls a dry run would make: files per call and token estimates."""
    lines = ["## Dry run: what would be sent to the model", ""]
    lines.append(f"{len(plan.chunks)} model call(s), about {plan.total_tokens:,} input tokens in all.")
    lines.append("")
    for chunk in plan.chunks:
        lines.append(f"- **call {chunk.index + 1}** (~{chunk.tokens:,} tokens)")
        for f in chunk.files:
            part = f" (part {f.part})" if f.part else ""
            lines.append(f"  - `{f.path}`{part}: {len(f.hunks)} hunk(s)")
        lines += _context_lines(chunk)
    return "\n".join(lines) + "\n"


def _context_lines(chunk: Chunk) -> list[str]:
    """A dry run's view of one call's repository context: included excerpts, then those left out."""
    context = chunk.context
    if context is None:
        return []
    out = [f"  - context: ~{context.tokens:,} of {context.budget:,} tokens, {len(context.included)} excerpt(s)"]
    for item in context.included:
        where = f"`{item.path}:{item.start}-{item.end}` {item.kind} `{item.symbol}`"
        out.append(f"    - included {where} (~{item.tokens} tokens)")
    for item in context.left_out:
        where = f"`{item.path}:{item.start}-{item.end}` {item.kind} `{item.symbol}`"
        out.append(f"    - left out {where} (~{item.tokens} tokens: over the context budget)")
    return out


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    diff: str
    repo_dir: Path | None
    output_format: str
    dry_run: bool
    config_path: Path | None
    static: bool = True
    fail_on: str = "none"


REPO_CONFIG = Path(".github") / "archbot.yml"


def config_file(options: Options) -> Path | None:
    """The config to apply: ``--config``, else the checkout's ``.github/archbot.yml`` when present."""
    if options.config_path is not None:
        return options.config_path
    if options.repo_dir is not None and (options.repo_dir / REPO_CONFIG).is_file():
        return options.repo_dir / REPO_CONFIG
    return None


def _load_request(options: Options, stdin: TextIO, cwd: Path, settings: Settings) -> tuple[ReviewRequest, str | None]:
    """Read the diff (byte cap, then diff cap: app/diff_input.py), the checkout's files and the config.

    Blocking I/O: run in a thread.
    """
    try:
        files = load_diff_files(options.diff, stdin, settings)
    except OSError as exc:
        raise InputError(f"cannot read the diff {options.diff!r}: {exc.strerror or exc}") from None
    except DiffParseError as exc:
        raise InputError(f"the diff cannot be read: {exc}") from None
    path = config_file(options)
    try:
        loaded = parse_repo_config(path.read_text(encoding="utf-8")) if path else None
    except OSError as exc:
        raise InputError(f"cannot read the config {path}: {exc.strerror or exc}") from None
    checkout = find_checkout(files, options.repo_dir, cwd)
    request = ReviewRequest(
        anchor_files=files,
        review_files=files,
        contents=checkout.contents,
        config=loaded.config if loaded else RepoConfig(),
        run_static=options.static,
        content_problems=checkout.problems,
        repo_files=WorkingTreeFiles(checkout.root) if checkout.root is not None else NO_REPO_FILES,
    )
    return request, loaded.problem if loaded else None


def failure_lines(failures: Sequence[CallFailure], calls: int) -> list[str]:
    """One stderr line per kind of failed model call: what failed, how many calls, what to do."""
    lines = []
    for failure in failures:
        advice = FAILURE_ADVICE.get(failure.kind, DEFAULT_ADVICE)
        lines.append(
            f"archbot: {failure.chunks} of {calls} model call(s) failed: {failure.message} ({failure.kind});"
            f" their {failure.files} file(s) are listed as not reviewed; {advice}\n"
        )
    return lines


def reaches(result: ReviewResult, fail_on: str) -> list[str]:
    """Titles of the findings at or above the ``--fail-on`` severity (none for ``none``); findings in
    test paths never count."""
    if fail_on == "none":
        return []
    bar = SEVERITY_ORDER[Severity(fail_on)]
    return [f.title for f in result.findings if SEVERITY_ORDER[f.severity] <= bar and not f.in_test_path]


def _document(result: ReviewResult, plan: ReviewPlan, options: Options) -> str:
    """The one document stdout carries."""
    if options.output_format == "json":
        report = build_report(result, plan, version=__version__, dry_run=options.dry_run)
        return report.model_dump_json(indent=2) + "\n"
    if options.output_format == "sarif":
        properties = {"archbot": {"dryRun": options.dry_run, "plan": call_plan(plan).model_dump(mode="json")}}
        sarif = render_sarif(result, tool_version=__version__, run_properties=properties)
        return json.dumps(sarif, indent=2) + "\n"
    text = render_markdown_review(result)
    return render_call_plan(plan) + "\n" + text if options.dry_run else text


async def run_review(
    settings: Settings,
    options: Options,
    *,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    model: ReviewModel | None = None,
    cwd: Path | None = None,
) -> int:
    """The CLI review; the process exit code (see the module docstring)."""
    try:
        request, problem = await asyncio.to_thread(_load_request, options, stdin, cwd or Path.cwd(), settings)
    except InputError as exc:
        err.write(f"archbot: {exc}\n")
        return EXIT_USAGE
    if problem:
        err.write(f"archbot: {config_file(options)} is invalid ({problem}); using the defaults\n")
    prepared = await asyncio.to_thread(prepare, request)  # ruff runs as a subprocess: off the event loop

    def progress(done: int, total: int) -> None:
        if total > 1:
            err.write(f"archbot: reviewed {done}/{total} chunks\n")

    async with AsyncExitStack() as stack:
        if model is None and not options.dry_run:
            model = model_from_settings(settings, stack, request.config.model)
            if model is None:
                err.write(NO_KEY_HINT)
        try:
            result = await review(
                request, model=None if options.dry_run else model, prepared=prepared, on_progress=progress
            )
        except LLMError as exc:
            err.write(f"archbot: the model call failed: {exc}\n")
            return EXIT_FINDINGS_OR_MODEL_ERRORS
    out.write(_document(result, prepared.plan, options))
    for line in failure_lines(result.failures, result.model_calls):
        err.write(line)
    for error in result.errors[sum(f.chunks for f in result.failures) :]:
        err.write(f"archbot: {error}\n")
    gate = reaches(result, options.fail_on)
    if gate:
        err.write(f"archbot: {len(gate)} finding(s) at or above --fail-on {options.fail_on}\n")
    return EXIT_FINDINGS_OR_MODEL_ERRORS if result.errors or gate else EXIT_OK
