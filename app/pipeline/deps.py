"""What every job runner needs, built once and passed in: GitHub, the model, settings, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.github.client import GitHubFactory
from app.github.models import AppIdentity
from app.jobs import Job
from app.metrics import Metrics
from app.review.model_api import ModelSource
from app.review.models import TokenUsage
from app.review.repo_files import RepoFiles
from app.settings import Settings
from app.usage import UsageLedger

CHECK_NAME = "archbot"


@dataclass
class Deps:
    """Dependencies of the job runners (the App and the Action build one each)."""

    settings: Settings
    factory: GitHubFactory
    identity: AppIdentity
    models: ModelSource | None  # app.pipeline.model_provider.build_model_provider, or a test's fake
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], float] = time.time
    action_mode: bool = False
    # check runs started per job (idempotency key): a retried job completes its own run, not a new one
    check_runs: dict[str, int] = field(default_factory=dict)
    ledger: UsageLedger | None = None  # token budgets and command rate limits (None: no caps)
    repo_files: RepoFiles | None = None  # the head revision's files (Action/CLI checkout); None: App fetch


def installation_scope(job: Job) -> str:
    """The ledger scope of a job's installation (the daily token budget is per installation)."""
    return f"inst:{job.installation_id or 0}"


async def daily_budget_spent(deps: Deps, job: Job) -> bool:
    """True when the job's installation has spent its daily token budget (no ledger: no cap)."""
    if deps.ledger is None:
        return False
    return await deps.ledger.tokens_today(installation_scope(job)) >= deps.settings.archbot_daily_token_budget


async def record_spend(deps: Deps, job: Job, usage: TokenUsage) -> None:
    """Count model tokens in the metrics and against the installation's daily budget."""
    tokens = deps.metrics.model_tokens
    tokens.labels(kind="input").inc(usage.input_tokens)
    tokens.labels(kind="output").inc(usage.output_tokens)
    tokens.labels(kind="cache_read").inc(usage.cache_read_tokens)
    tokens.labels(kind="cache_write").inc(usage.cache_write_tokens)
    if deps.ledger is not None and usage.total:
        await deps.ledger.add_tokens(installation_scope(job), usage.total)
