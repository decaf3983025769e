"""What every job runner needs, built once and passed in: GitHub, the model, settings, metrics."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anthropic
import structlog

from app.github.client import GitHubFactory
from app.github.models import AppIdentity
from app.jobs import Job
from app.metrics import Metrics
from app.review.llm import LLMConfig, ReviewModel, build_client
from app.review.models import TokenUsage
from app.settings import DEPRECATED_MODELS, Settings
from app.usage import UsageLedger

CHECK_NAME = "archbot"


class ModelProvider:
    """One SDK client for the process; a ``ReviewModel`` per model id (a repo may pick its model)."""

    def __init__(self, client: anthropic.AsyncAnthropic, config: LLMConfig) -> None:
        self._client = client
        self._config = config

    def model(self, model_id: str | None = None) -> ReviewModel:
        config = self._config if not model_id else dataclasses.replace(self._config, model=model_id)
        if config.model in DEPRECATED_MODELS:
            structlog.get_logger("archbot.model").warning(
                "model_deprecated", model=config.model, use_instead="claude-sonnet-4-6"
            )
        return ReviewModel(self._client, config)

    async def aclose(self) -> None:
        """Close the SDK client's connection pool (one-shot runs: the Action, the CLI)."""
        await self._client.close()


def build_model_provider(settings: Settings, *, max_tokens: int | None = None) -> ModelProvider | None:
    """The model from settings, or None without credentials (then reviews are static-only).
    ``max_tokens`` raises the answer limit for long outputs (plans)."""
    if not settings.has_model_credentials():
        return None
    config = LLMConfig(
        model=settings.archbot_model,
        request_timeout=settings.archbot_model_timeout,
        deadline=settings.archbot_review_deadline,
    )
    if max_tokens is not None:
        config = dataclasses.replace(config, max_tokens=max_tokens)
    client = build_client(
        api_key=settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None,
        auth_token=settings.anthropic_auth_token.get_secret_value() if settings.anthropic_auth_token else None,
        base_url=settings.anthropic_base_url,
        timeout=config.request_timeout,
        max_retries=config.max_retries,
    )
    return ModelProvider(client, config)


@dataclass
class Deps:
    """Dependencies of the job runners (the App and the Action build one each)."""

    settings: Settings
    factory: GitHubFactory
    identity: AppIdentity
    models: ModelProvider | None
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], float] = time.time
    action_mode: bool = False
    # check runs started per job (idempotency key): a retried job completes its own run, not a new one
    check_runs: dict[str, int] = field(default_factory=dict)
    ledger: UsageLedger | None = None  # token budgets and command rate limits (None: no caps)


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
