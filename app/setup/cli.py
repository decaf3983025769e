"""The glue between the console script and the setup pages: options to a ``SetupConfig``."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings, SettingsError
from app.setup.manifest import SetupInputError, SetupTarget, build_target
from app.setup.run import env_path, github_url_from_api, run_setup, setup_before_serve
from app.setup.web import Registration, SetupConfig


def _target(*, github_url: str | None, public_url: str | None, org: str | None, name: str | None) -> SetupTarget:
    try:
        return build_target(github_url=github_url, public_url=public_url, org=org, name=name)
    except SetupInputError as exc:
        raise SettingsError(str(exc)) from None


def _extra_hosts(host: str) -> frozenset[str]:
    """The listening address is a host name the browser may use, unless it is a wildcard."""
    return frozenset() if host in ("0.0.0.0", "::", "") else frozenset({host.strip("[]")})  # noqa: S104


def setup_command(
    *,
    host: str,
    port: int,
    public_url: str,
    github_url: str | None,
    org: str | None,
    name: str | None,
    force: bool,
    env_file: Path | None = None,
) -> int:
    """``archbot setup``: the exit code (a bad option is a ``SettingsError``, exit 2)."""
    target = _target(github_url=github_url, public_url=public_url, org=org, name=name)
    config = SetupConfig(target=target, env_path=env_file or env_path(), force=force, extra_hosts=_extra_hosts(host))
    return run_setup(config, host=host, port=port)


def set_up_for_serve(settings: Settings, *, host: str, port: int, public_url: str | None) -> Registration | None:
    """``archbot serve`` without App credentials: the setup phase (GitHub from ``GITHUB_API_URL``)."""
    target = _target(
        github_url=github_url_from_api(settings.github_api_url), public_url=public_url, org=None, name=None
    )
    config = SetupConfig(
        target=target,
        env_path=env_path(),
        extra_hosts=_extra_hosts(host),
        next_step="archbot is starting with these settings now; GitHub's deliveries reach it at /webhook.",
    )
    return setup_before_serve(config, host=host, port=port)
