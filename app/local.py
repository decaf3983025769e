"""``archbot review`` on a laptop: read a diff (and optionally the checkout), review, print."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from app import __version__
from app.pipeline.model_provider import build_model_provider
from app.repo_config import RepoConfig, parse_repo_config
from app.review.budget import ReviewPlan
from app.review.diff import DiffParseError, FileDiff, parse_diff
from app.review.engine import Prepared, ReviewRequest, prepare, review
from app.review.model_api import LLMError, ReviewModel
from app.review.models import ReviewResult
from app.review.render import render_markdown_review, render_sarif
from app.settings import Settings

NO_KEY_HINT = (
    "archbot: no model credentials, so this is the offline review (deterministic checks only).\n"
    "         Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, with ANTHROPIC_BASE_URL for a gateway)\n"
    "         for the architect's review; --dry-run shows what would be sent.\n"
)


def read_source(source: str, stdin: TextIO) -> str:
    """A file's text, or stdin for ``-``; newlines are kept exactly (never strip a diff)."""
    if source == "-":
        return stdin.read()
    return Path(source).read_text(encoding="utf-8", errors="replace")


def read_contents(files: list[FileDiff], repo_dir: Path | None) -> dict[str, str | None]:
    """New file texts from a checkout; paths that escape the checkout are refused."""
    if repo_dir is None:
        return {}
    root = repo_dir.resolve()
    contents: dict[str, str | None] = {}
    for f in files:
        target = (root / f.path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            contents[f.path] = None
            continue
        contents[f.path] = target.read_text(encoding="utf-8", errors="replace")
    return contents


def model_from_settings(settings: Settings, model_name: str | None = None) -> ReviewModel | None:
    """The model client, or None without credentials (the offline review)."""
    provider = build_model_provider(settings)
    return provider.model(model_name) if provider is not None else None


def render_dry_run(plan: ReviewPlan, prepared: Prepared) -> str:
    """Every file of the diff with its fate, and the token estimate of each model call."""
    lines = ["## Dry run: what would be sent to the model", ""]
    lines.append(f"{len(plan.chunks)} model call(s), about {plan.total_tokens:,} input tokens in all.")
    lines.append("")
    for chunk in plan.chunks:
        lines.append(f"- **call {chunk.index + 1}** (~{chunk.tokens:,} tokens)")
        for f in chunk.files:
            part = f" (part {f.part})" if f.part else ""
            lines.append(f"  - `{f.path}`{part}: {len(f.hunks)} hunk(s)")
    if plan.not_reviewed:
        lines += ["", "**Not reviewed:**"]
        lines += [f"- `{n.path}`: {n.reason}" + (f" ({n.hunks} hunk(s))" if n.hunks else "") for n in plan.not_reviewed]
    if prepared.static.not_analysed:
        lines += ["", "**Not analysed by the static checks:**"]
        lines += [f"- `{n.path}`: {n.reason}" for n in prepared.static.not_analysed]
    return "\n".join(lines) + "\n"


def _emit(result: ReviewResult, output_format: str, out: TextIO) -> None:
    if output_format == "json":
        out.write(result.model_dump_json(indent=2) + "\n")
    elif output_format == "sarif":
        out.write(json.dumps(render_sarif(result, tool_version=__version__), indent=2) + "\n")
    else:
        out.write(render_markdown_review(result))


def _load_request(
    diff: str, stdin: TextIO, repo_dir: Path | None, config_path: Path | None, static: bool
) -> tuple[ReviewRequest, str | None]:
    """Read the diff, the checkout's files and the config (blocking I/O, run in a thread)."""
    files = parse_diff(read_source(diff, stdin))
    loaded = parse_repo_config(config_path.read_text(encoding="utf-8")) if config_path else None
    config = loaded.config if loaded else RepoConfig()
    request = ReviewRequest(
        anchor_files=files,
        review_files=files,
        contents=read_contents(files, repo_dir),
        config=config,
        run_static=static,
    )
    return request, loaded.problem if loaded else None


async def run_review(
    settings: Settings,
    *,
    diff: str,
    repo_dir: Path | None,
    output_format: str,
    dry_run: bool,
    config_path: Path | None,
    static: bool = True,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    model: ReviewModel | None = None,
) -> int:
    """The CLI review. Exit 0 on a finished review, 1 when the model failed, 2 on bad input."""
    try:
        request, problem = await asyncio.to_thread(_load_request, diff, stdin, repo_dir, config_path, static)
    except (OSError, DiffParseError) as exc:
        err.write(f"archbot: cannot read the diff or config: {exc}\n")
        return 2
    if problem:
        err.write(f"archbot: {config_path} is invalid ({problem}); using the defaults\n")
    config = request.config
    prepared = await asyncio.to_thread(prepare, request)  # ruff runs as a subprocess: off the event loop
    model = model if model is not None else (None if dry_run else model_from_settings(settings, config.model))
    if model is None and not dry_run:
        err.write(NO_KEY_HINT)
    if (dry_run or model is None) and output_format == "markdown":
        out.write(render_dry_run(prepared.plan, prepared) + "\n")

    def progress(done: int, total: int) -> None:
        if total > 1:
            err.write(f"archbot: reviewed {done}/{total} chunks\n")

    try:
        result = await review(request, model=None if dry_run else model, prepared=prepared, on_progress=progress)
    except LLMError as exc:
        err.write(f"archbot: the model call failed: {exc}\n")
        return 1
    _emit(result, output_format, out)
    return 1 if result.errors else 0
