"""Per-repository configuration (``.github/archbot.yml`` from the default branch): parse and validate.

Pure: the caller fetches the text. An invalid file never crashes a review: ``parse_repo_config`` returns
the defaults plus a human-readable problem that the pipeline posts as a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.review.models import Severity
from app.static.context import DEFAULT_TEST_PATHS

Permission = Literal["read", "triage", "write", "maintain", "admin"]
PERMISSION_RANK: dict[str, int] = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
MAX_CONFIG_BYTES = 64 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReviewConfig(_Strict):
    enabled: bool = True
    drafts: bool = False
    bots: bool = False
    ignore: tuple[str, ...] = ()
    max_files: int = Field(default=300, ge=1, le=3000)
    max_inline_comments: int = Field(default=30, ge=0, le=100)
    severity_threshold: Severity | None = None  # None: the check run concludes neutral
    instructions: str = Field(default="", max_length=4000)
    # Test, fixture, example and docs paths: only high-confidence security findings there, severity
    # capped at low and never counted by the severity threshold or fail-on (app/static/context.py).
    test_paths: tuple[str, ...] = Field(default=DEFAULT_TEST_PATHS, max_length=200)
    # Opt-in read tools for the model (app/review/read_tools.py): per chunk, at most this many calls
    # and about this many tokens of results.
    agentic: bool = False
    agentic_max_calls: int = Field(default=6, ge=0, le=20)
    agentic_max_tokens: int = Field(default=6000, ge=0, le=50_000)
    # Share of each model call's token budget kept for repository context (enclosing code, callees,
    # callers, settings: app/review/context/); 0 turns the context off.
    context_share: float = Field(default=0.33, ge=0.0, le=0.8)
    # Each inline comment ends with a collapsed "Prompt for an AI coding agent" block (issue 19).
    agent_prompts: bool = True


class DesignDocsConfig(_Strict):
    paths: tuple[str, ...] = ("docs/design/**", "docs/adr/**", "rfcs/**", "**/*.design.md")
    issue_labels: tuple[str, ...] = ("design-doc", "rfc", "adr")


class PlanConfig(_Strict):
    enabled: bool = True
    ask_clarifying_questions: bool = True


class CommandsConfig(_Strict):
    allowed_permission: Permission = "write"

    @field_validator("allowed_permission")
    @classmethod
    def _never_below_write(cls, value: str) -> str:
        # DESIGN, Decision 7: the config may raise the bar, never lower it below write.
        return value if PERMISSION_RANK[value] >= PERMISSION_RANK["write"] else "write"


class RepoConfig(_Strict):
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    design_docs: DesignDocsConfig = Field(default_factory=DesignDocsConfig)
    plan: PlanConfig = Field(default_factory=PlanConfig)
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    model: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")


@dataclass(frozen=True)
class LoadedConfig:
    """The config in force and, when the file was bad, what was wrong with it."""

    config: RepoConfig
    problem: str | None = None


def parse_repo_config(text: str | None) -> LoadedConfig:
    """Validate the YAML text; a missing file is the defaults, a bad file is the defaults + a problem."""
    if text is None or not text.strip():
        return LoadedConfig(RepoConfig())
    if len(text.encode("utf-8")) > MAX_CONFIG_BYTES:
        return LoadedConfig(RepoConfig(), f"the file is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return LoadedConfig(RepoConfig(), f"it is not valid YAML{where}")
    if data is None:
        return LoadedConfig(RepoConfig())
    if not isinstance(data, dict):
        return LoadedConfig(RepoConfig(), "the top level must be a mapping of keys")
    try:
        return LoadedConfig(RepoConfig.model_validate(data))
    except ValidationError as exc:
        problems = "; ".join(f"`{'.'.join(str(p) for p in err['loc'])}`: {err['msg']}" for err in exc.errors()[:10])
        return LoadedConfig(RepoConfig(), problems)


def permission_allows(actual: str | None, required: str) -> bool:
    """True when ``actual`` (from the collaborators API) is at least ``required``; unknown denies."""
    if actual is None:
        return False
    return PERMISSION_RANK.get(actual, 0) >= PERMISSION_RANK.get(required, PERMISSION_RANK["admin"])
