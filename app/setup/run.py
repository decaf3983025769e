"""Serve the setup pages with uvicorn until the App is registered or a signal stops them: the body of
``archbot setup`` and the first phase of ``archbot serve`` started without App credentials."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import structlog

from app.setup import ENV_FILE
from app.setup.envfile import refusal
from app.setup.web import Registration, SetupConfig, create_setup_app

INTERRUPTED = 130
LINGER_SECONDS = 1.5
"""How long the setup server keeps answering after the success page (its stylesheet is still to come)."""
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def _recorded_signals() -> Iterator[list[int]]:
    """uvicorn re-raises the signal that stopped it once its own handlers are gone; ours only record it,
    so a stop ends with an exit code instead of death by SIGTERM."""
    received: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in _SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


async def serve_setup(config: SetupConfig, *, host: str, port: int) -> Registration | None:
    """Serve the setup app on ``host:port``; the registration, or None when stopped first.

    The server stops itself ``LINGER_SECONDS`` after the success page has been sent."""
    import uvicorn

    registered: list[Registration] = []
    server: uvicorn.Server | None = None

    def finished(registration: Registration) -> None:
        registered.append(registration)
        if server is not None:  # linger a moment: the browser still fetches the success page's stylesheet
            asyncio.get_running_loop().call_later(LINGER_SECONDS, setattr, server, "should_exit", True)

    app = create_setup_app(dataclasses.replace(config, on_registered=finished))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_keep_alive=5,
        )
    )
    try:
        await server.serve()
    except SystemExit as exc:  # the port is taken (uvicorn logged why)
        raise OSError(f"cannot listen on {host}:{port}") from exc
    if not server.started:
        raise OSError(f"cannot listen on {host}:{port}")
    return registered[0] if registered else None


def page_address(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - naming, not binding
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"


def run_setup(config: SetupConfig, *, host: str, port: int) -> int:
    """``archbot setup``: refuse at once if ``.env`` holds App settings (without ``--force``), else serve
    the page until GitHub's redirect has been handled. Exit 0 registered, 1 not listening, 2 refused."""
    log = structlog.get_logger("archbot.setup")
    problem = refusal(config.env_path, force=config.force)
    if problem is not None:
        sys.stderr.write(f"archbot: {problem}\n")
        return 2
    sys.stderr.write(f"archbot setup: open {page_address(host, port)} in your browser to register the GitHub App\n")
    with _recorded_signals():
        try:
            registration = asyncio.run(serve_setup(config, host=host, port=port))
        except OSError as exc:
            sys.stderr.write(f"archbot: {exc}\n")
            return 1
    if registration is None:
        log.info("setup.stopped_before_registration")
        return INTERRUPTED
    sys.stderr.write(
        f"archbot setup: registered the GitHub App {registration.slug} (id {registration.app_id}); wrote "
        f"{registration.written.env_path} and {registration.written.key_path}.\n"
        f"Install it: {registration.install_url}\nThen start archbot: archbot serve\n"
    )
    return 0


def env_path() -> Path:
    """The ``.env`` archbot writes and ``archbot serve`` reads: in the current directory."""
    return Path(ENV_FILE)


def github_url_from_api(api_url: str) -> str:
    """The web address of the GitHub whose API is ``api_url`` (Enterprise Server: ``<url>/api/v3``)."""
    api = api_url.rstrip("/")
    if api.endswith("/api/v3"):
        return api.removesuffix("/api/v3")
    return "https://github.com"


def setup_before_serve(config: SetupConfig, *, host: str, port: int) -> Registration | None:
    """``archbot serve`` without App credentials: serve the setup page (and ``/healthz``) until the App is
    registered; None when stopped first (the caller exits 0) or when the port cannot be bound (logged)."""
    log = structlog.get_logger("archbot.serve")
    log.warning("serve.no_app_credentials", setup_page=page_address(host, port))
    sys.stderr.write(
        f"archbot: no GitHub App credentials; open {page_address(host, port)} to register the App "
        "(or set GITHUB_APP_ID, GITHUB_PRIVATE_KEY_PATH and GITHUB_WEBHOOK_SECRET)\n"
    )
    with _recorded_signals():
        try:
            return asyncio.run(serve_setup(config, host=host, port=port))
        except OSError as exc:
            sys.stderr.write(f"archbot: {exc}\n")
            raise
