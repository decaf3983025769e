"""Process settings from the environment (pydantic-settings): built once by the CLI and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.review.models import Severity

DEPRECATED_MODELS = frozenset({"claude-sonnet-4-5"})
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024
NOT_A_KEY = "not a PEM private key (use the .pem file GitHub generated for the App)"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the variable and what to do."""


class Settings(BaseSettings):
    """The environment contract of DESIGN.md. Secrets are ``SecretStr`` and never logged."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False, env_ignore_empty=True)

    github_app_id: int | None = None
    github_private_key: SecretStr | None = None
    github_private_key_path: Path | None = None
    github_webhook_secret: SecretStr | None = None
    github_webhook_secret_previous: SecretStr | None = None
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    # OpenTelemetry tracing (app.tracing, the `otel` extra): on only when an OTLP endpoint is set
    otel_exporter_otlp_endpoint: str | None = None

    anthropic_api_key: SecretStr | None = None
    anthropic_auth_token: SecretStr | None = None
    anthropic_base_url: str | None = None

    archbot_model: str = "claude-sonnet-4-6"
    archbot_database_url: str = "sqlite:///./archbot.db"
    archbot_sarif_file: Path | None = None
    archbot_severity_threshold: Severity | None = None
    archbot_fail_on: Literal["none", "critical", "high", "medium", "low"] = "none"
    archbot_config_path: str = ".github/archbot.yml"

    # GitHub Actions runtime (read by `archbot action` only)
    github_event_name: str | None = None
    github_event_path: Path | None = None
    github_repository: str | None = None
    github_step_summary: Path | None = None
    github_output: Path | None = None
    github_workspace: Path | None = None  # the workflow's checkout: review context is read from it

    archbot_max_body_bytes: int = Field(default=MAX_WEBHOOK_BYTES, gt=0)
    archbot_body_timeout: float = Field(default=10.0, gt=0)  # seconds to receive one webhook body, else 408
    archbot_max_connections: int = Field(default=1000, ge=1)  # open connections + requests; beyond: 503
    archbot_worker_concurrency: int = Field(default=2, ge=1, le=32)
    # seconds a stopping worker lets running jobs finish before it hands them back (re-queued, the
    # attempt not counted); the 15 s default fits a 30 s container stop, Kubernetes workers set more
    archbot_worker_shutdown_grace: float = Field(default=15.0, ge=0, le=3600)
    # seconds a job's lease lasts without a heartbeat (sent every third of it): after a worker dies
    # (SIGKILL, a lost node) its running job is leased again by another worker this long after its last beat
    archbot_worker_lease_seconds: float = Field(default=300.0, ge=1, le=3600)
    archbot_log_level: str = "INFO"
    archbot_log_format: Literal["json", "console"] | None = None  # unset: console on a terminal, else json
    archbot_github_timeout: float = Field(default=10.0, gt=0)
    archbot_model_timeout: float = Field(default=120.0, gt=0)
    archbot_review_deadline: float = Field(default=600.0, gt=0)
    archbot_daily_token_budget: int = Field(default=2_000_000, ge=0)  # per installation per day
    archbot_pr_token_budget: int = Field(default=400_000, ge=0)  # per PR, across pushes
    archbot_commands_per_issue_per_hour: int = Field(default=10, ge=0)
    archbot_reviews_per_pr_per_hour: int = Field(default=6, ge=0)  # model reviews; static checks always run
    archbot_answers_per_pr_per_day: int = Field(default=20, ge=0)  # model answers in review threads
    # The status page (GET /): its private part needs this token (bearer header or the login form);
    # at least 16 characters, since anyone who can reach the server can try tokens
    archbot_status_token: SecretStr | None = Field(default=None, min_length=16)

    # Diff caps (README "Big diffs"): beyond them the highest-risk files that fit are reviewed and the
    # rest named as not reviewed; the CLI refuses to read a diff over archbot_max_diff_bytes.
    archbot_max_diff_lines: int = Field(default=20_000, ge=1)  # = app.review.diff_caps defaults
    archbot_max_diff_files: int = Field(default=300, ge=1)
    archbot_max_diff_bytes: int = Field(default=64 * 1024 * 1024, ge=1)  # 64 MiB

    # Review context in App mode: the modules the changed files import, read in ONE extra GraphQL query.
    archbot_context_max_files: int = Field(default=40, ge=0, le=100)  # 0: no context fetch
    archbot_context_max_bytes: int = Field(default=400_000, ge=0)

    @model_validator(mode="after")
    def _one_private_key_source(self) -> Settings:
        if self.github_private_key is not None and self.github_private_key_path is not None:
            raise ValueError("set GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH, not both")
        return self

    def private_key_variable(self) -> str:
        """The variable the App's key comes from, as the user set it (for messages; never the key)."""
        if self.github_private_key_path is not None:
            return f"GITHUB_PRIVATE_KEY_PATH={self.github_private_key_path}"
        return "GITHUB_PRIVATE_KEY"

    def private_key(self) -> str | None:
        """The App's PEM private key, from the variable or the file it names."""
        if self.github_private_key is not None:
            return self.github_private_key.get_secret_value().replace("\\n", "\n")
        if self.github_private_key_path is not None:
            try:
                raw = self.github_private_key_path.read_bytes()
            except OSError as exc:
                raise SettingsError(
                    f"cannot read the private key ({self.private_key_variable()}): {exc.strerror or exc}"
                ) from None
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise SettingsError(
                    f"cannot read the private key ({self.private_key_variable()}): {NOT_A_KEY}"
                ) from None
        return None

    def webhook_secrets(self) -> list[str]:
        """The current and (during rotation) previous webhook secrets, in that order."""
        return [
            s.get_secret_value()
            for s in (self.github_webhook_secret, self.github_webhook_secret_previous)
            if s is not None and s.get_secret_value()
        ]

    def secret_values(self) -> list[str]:
        """Every configured secret's value (pages and reasons are scrubbed of them literally)."""
        values = [*self.webhook_secrets(), self.private_key() or ""]
        for secret in (self.github_token, self.anthropic_api_key, self.anthropic_auth_token, self.archbot_status_token):
            if secret is not None:
                values.append(secret.get_secret_value())
        return [v for v in values if len(v) >= 8]

    def has_model_credentials(self) -> bool:
        """True when the Anthropic SDK has a key or token to send."""
        return any(s is not None and s.get_secret_value() for s in (self.anthropic_api_key, self.anthropic_auth_token))

    def has_app_settings(self) -> bool:
        """True when any GitHub App setting is present (none at all: ``archbot serve`` offers its setup page)."""
        values = (self.github_app_id, self.github_private_key, self.github_private_key_path, self.github_webhook_secret)
        return any(v is not None for v in values)

    def _missing_app_credentials(self) -> list[str]:
        missing = []
        if self.github_app_id is None:
            missing.append("GITHUB_APP_ID")
        if self.github_private_key is None and self.github_private_key_path is None:
            missing.append("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH")
        return missing

    def _check_private_key(self) -> None:
        """Load the key with cryptography now, so a junk key fails here and not as ``GET /app`` failing."""
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        pem = self.private_key() or ""
        problem = None
        try:
            key = load_pem_private_key(pem.encode("utf-8"), password=None)
        except TypeError:  # a passphrase-protected key
            problem = "the key is encrypted; use the unencrypted .pem GitHub generated for the App"
        except ValueError:
            problem = NOT_A_KEY
        else:
            if not isinstance(key, RSAPrivateKey):
                problem = "not an RSA key (GitHub App keys are RSA)"
        if problem is not None:
            raise SettingsError(f"cannot read the private key ({self.private_key_variable()}): {problem}")

    def require_app_credentials(self) -> None:
        """What ``archbot worker`` needs: the App id and a private key that loads."""
        missing = self._missing_app_credentials()
        if missing:
            raise SettingsError("missing required setting: " + ", ".join(missing))
        self._check_private_key()

    def require_serve(self) -> None:
        """What ``archbot serve`` needs: the App credentials and the webhook secret; every missing
        variable is named at once, then the key is loaded."""
        missing = self._missing_app_credentials()
        if not self.webhook_secrets():
            missing.append("GITHUB_WEBHOOK_SECRET")
        if missing:
            raise SettingsError("missing required setting: " + ", ".join(missing))
        self._check_private_key()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and explicit overrides), turning errors into SettingsError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
