"""Building the model from settings: the one place that loads the anthropic-backed client, lazily.

Nothing here imports the SDK at module level, so the CLI, ``--help`` and dry runs can import this
module for free; :func:`build_model_provider` imports :mod:`app.review.llm` (and with it anthropic)
only when credentials are set and a model is really built.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import structlog

from app.review.model_api import LLMConfig, ReviewModel
from app.settings import DEPRECATED_MODELS, Settings

if TYPE_CHECKING:
    import anthropic

    from app.metrics import Metrics


class ModelProvider:
    """One SDK client for the process; a model per model id (a repo may pick its model)."""

    def __init__(self, client: anthropic.AsyncAnthropic, config: LLMConfig, metrics: Metrics | None = None) -> None:
        self._client = client
        self._config = config
        self._metrics = metrics  # every Messages API call is observed here (None: not measured)

    def model(self, model_id: str | None = None) -> ReviewModel:
        """The anthropic-backed model for ``model_id`` (None: the configured one), sharing the client."""
        from app.review.llm import AnthropicReviewModel  # the SDK is loaded already: it built the client

        config = self._config if not model_id else dataclasses.replace(self._config, model=model_id)
        if config.model in DEPRECATED_MODELS:
            structlog.get_logger("archbot.model").warning(
                "model_deprecated", model=config.model, use_instead="claude-sonnet-4-6"
            )
        return AnthropicReviewModel(self._client, config, metrics=self._metrics)

    async def aclose(self) -> None:
        """Close the SDK client's connection pool (one-shot runs: the Action, the CLI)."""
        await self._client.close()


def build_model_provider(
    settings: Settings, *, max_tokens: int | None = None, metrics: Metrics | None = None
) -> ModelProvider | None:
    """The model from settings, or None without credentials (then reviews are static-only).

    ``max_tokens`` raises the answer limit for long outputs (plans). Only here is the SDK imported.
    """
    if not settings.has_model_credentials():
        return None
    from app.review.llm import build_client

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
    return ModelProvider(client, config, metrics)
