"""``archbot plan FILE|- [--now]``: clarifying questions or an implementation plan for a local design doc.

The same engine as ``/plan`` on an issue (:mod:`app.design.engine`), without GitHub: the document
is read from a file or stdin, the Markdown goes to ``out`` and progress and errors to ``err``.
Exit codes: 0 questions or plan printed, 1 the model call failed, 2 usage (no credentials, no
readable document).
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TextIO

from app.design.engine import DEFAULT_DOCUMENT_CHARS, clarify, fit_text, has_key_facts, make_plan
from app.design.render import render_plan, render_questions
from app.pipeline.model_provider import build_model_provider
from app.review.model_api import LLMError, ReviewModel, SpendLimitError
from app.review.models import TokenUsage
from app.review.prompts import PromptError
from app.settings import Settings

PLAN_MAX_TOKENS = 8192
"""Output budget of one model call: a full plan needs more than a review chunk's default."""
PLAN_CODE_TOKENS = 6000
"""Tokens of the plan prompt kept for the code the document names."""
MAX_READ_BYTES = 2 * 1024 * 1024
"""A larger input is refused: it is not a design document."""

NO_CREDENTIALS_MESSAGE = """\
archbot plan needs access to the model, and no credentials are set.
Set one of these environment variables and run the command again:
  ANTHROPIC_API_KEY=sk-ant-...        an Anthropic API key (https://console.anthropic.com/)
  ANTHROPIC_AUTH_TOKEN=...            a bearer token, e.g. for a gateway
and, for a gateway or proxy, ANTHROPIC_BASE_URL=https://... as its address.
ARCHBOT_MODEL picks the model (default claude-sonnet-4-6).
"""


def _how_to_continue(source: str) -> str:
    """The command-line version of "answer, then /plan again"."""
    target = "FILE" if source == "-" else source
    return (
        "Add the answers to the document (a short *Facts* section is enough) and run "
        f"`archbot plan {target}` again. Or run `archbot plan {target} --now` to get the plan right away, "
        "with each missing fact stated as an assumption you can correct."
    )


def _read(source: str, stdin: TextIO) -> str:
    """The document's text from a file or (``-``) stdin; OSError or ValueError when it cannot be read."""
    if source == "-":
        text = stdin.read(MAX_READ_BYTES + 1)
    else:
        path = Path(source)
        if path.stat().st_size > MAX_READ_BYTES:
            raise ValueError(f"{source} is larger than {MAX_READ_BYTES // (1024 * 1024)} MiB")
        text = path.read_text(encoding="utf-8")
    if len(text) > MAX_READ_BYTES:
        raise ValueError(f"the input is larger than {MAX_READ_BYTES // (1024 * 1024)} MiB")
    if not text.strip():
        raise ValueError("the document is empty")
    return text


async def _model_from(settings: Settings, stack: AsyncExitStack) -> ReviewModel:
    """A ReviewModel built from settings, its HTTP client closed with ``stack`` (credentials are checked)."""
    provider = build_model_provider(settings, max_tokens=PLAN_MAX_TOKENS)
    if provider is None:
        raise LLMError("no model credentials: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN")
    stack.push_async_callback(provider.aclose)
    return provider.model()


def named_code(document: str, repo_dir: Path) -> str:
    """The rendered excerpts of the checkout's files and symbols ``document`` names ("" for none)."""
    from app.review.context import RepoIndex, build_named_context
    from app.review.context.builder import named_in
    from app.worktree_files import WorkingTreeFiles

    if not repo_dir.is_dir():
        return ""
    files = WorkingTreeFiles(repo_dir)
    named, _ = named_in(document)
    repo = RepoIndex(files.read, files.paths(), changed=named)  # a large checkout: at least the files named
    context = build_named_context(document, repo, PLAN_CODE_TOKENS)
    return context.render() if context.included else ""


def _usage_line(usage: TokenUsage) -> str:
    return (
        f"archbot: {usage.calls} model call(s), {usage.input_tokens} input and {usage.output_tokens} output tokens"
        f" ({usage.cache_read_tokens} read from cache)\n"
    )


async def run_plan(
    settings: Settings,
    *,
    source: str,
    now: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
    model: ReviewModel | None = None,
    stdin: TextIO | None = None,
    repo_dir: Path | None = None,
) -> int:
    """Print clarifying questions, or with ``now`` (or when the document states the key facts) a plan.

    With ``repo_dir`` the plan prompt also carries the code the document names (files and backticked
    symbols of that checkout, :func:`app.review.context.build_named_context`).

    ``out``, ``err`` and ``stdin`` default to the process's streams at call time. ``model`` is built
    from ``settings`` unless given (tests inject one); a model built here is closed here.
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:  # the input first: a missing file is the first thing to fix, whatever the credentials
        text = _read(source, stdin if stdin is not None else sys.stdin)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        err.write(f"archbot: cannot read the document {source!r}: {reason}\n")
        return 2
    if model is None and not settings.has_model_credentials():
        err.write(NO_CREDENTIALS_MESSAGE)
        return 2
    name = "standard input" if source == "-" else Path(source).name
    document, cut_note = fit_text(text, max_chars=DEFAULT_DOCUMENT_CHARS)
    if cut_note is not None:
        err.write(f"archbot: {cut_note}\n")
    issue = f"Design document: {name}\n\n{document}"
    async with AsyncExitStack() as stack:
        active = model if model is not None else await _model_from(settings, stack)
        usage = TokenUsage()
        try:
            if not now:
                err.write("archbot: checking the document for the key facts a plan needs...\n")
                facts, spent = await clarify(active, issue=issue, discussion="")
                usage = usage + spent
                if not has_key_facts(facts):
                    hint = _how_to_continue(source)
                    out.write(render_questions(facts, header_note=cut_note or "", how_to_continue=hint))
                    err.write(_usage_line(usage))
                    return 0
                err.write("archbot: the document states the key facts.\n")
            err.write("archbot: writing the implementation plan...\n")
            code = await asyncio.to_thread(named_code, document, repo_dir) if repo_dir is not None else ""
            plan, spent = await make_plan(active, issue=issue, discussion="", instructions="", code=code)
            usage = usage + spent
        except SpendLimitError as exc:
            err.write(f"archbot: skipped: the model's spend limit is reached ({exc})\n")
            err.write(_usage_line(usage + exc.usage))
            return 1
        except LLMError as exc:
            err.write(f"archbot: the model call failed: {exc}\n")
            err.write(_usage_line(usage + exc.usage))
            return 1
        except PromptError as exc:
            err.write(f"archbot: {exc}\n")
            return 1
    out.write(render_plan(plan, truncated_note=cut_note))
    err.write(_usage_line(usage))
    return 0
