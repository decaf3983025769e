"""The setup web app: ``GET /`` (the manifest form), ``GET /setup/callback`` (GitHub's redirect with
``code`` and ``state``), ``GET /healthz``. Server-side HTML from Jinja2 templates (autoescaped), no
JavaScript, a strict Content-Security-Policy; no page shows a secret."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader
from starlette.background import BackgroundTask
from structlog.typing import FilteringBoundLogger

from app import __version__
from app.setup.conversion import ConversionError, NewApp, convert
from app.setup.envfile import EnvFileError, Written, refusal, write_credentials
from app.setup.manifest import ALWAYS_DELIVERED, EVENTS, PERMISSIONS, SetupTarget, manifest
from app.setup.states import StateStore

STATE_COOKIE = "archbot_setup_state"
CALLBACK_PATH = "/setup/callback"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_STATUS = {
    "bad_code": 400,
    "expired": 410,
    "refused": 422,
    "github_error": 502,
    "unreachable": 502,
    "bad_answer": 502,
}
_TITLES = {
    "bad_code": "That is not a code from GitHub",
    "expired": "GitHub's code was used already or has expired",
    "refused": "GitHub refused the code",
    "github_error": "GitHub could not finish the registration",
    "unreachable": "GitHub could not be reached",
    "bad_answer": "GitHub's answer was not understood",
}


@dataclass(frozen=True)
class Registration:
    """What a successful callback did (no secret in it)."""

    app_id: int
    slug: str
    written: Written
    install_url: str


@dataclass(frozen=True)
class SetupConfig:
    """What the setup pages need; ``on_registered`` runs after the success page has been sent."""

    target: SetupTarget
    env_path: Path
    force: bool = False
    extra_hosts: frozenset[str] = frozenset()  # host names, besides loopback, the browser may use
    next_step: str = "Start archbot with `archbot serve`."
    transport: httpx.AsyncBaseTransport | None = None  # GitHub's API (tests: the fake)
    on_registered: Callable[[Registration], Awaitable[None] | None] | None = None
    states: StateStore = field(default_factory=StateStore)

    def allowed_hosts(self) -> frozenset[str]:
        public = urlsplit(self.target.public_url).hostname if self.target.public_url else None
        return LOCAL_HOSTS | self.extra_hosts | ({public} if public else set())


def _security_headers(github_url: str) -> dict[str, str]:
    github = urlsplit(github_url)
    return {
        "content-security-policy": (
            "default-src 'none'; style-src 'self'; img-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            f"form-action 'self' {github.scheme}://{github.netloc}"
        ),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",  # the callback's address holds GitHub's code
        "cache-control": "no-store",
    }


def create_setup_app(config: SetupConfig) -> FastAPI:
    """Build the setup app around ``config`` (no globals; the state store lives in the config)."""
    app = FastAPI(title="archbot setup", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Environment(loader=PackageLoader("app.setup", "templates"), autoescape=True)
    css = files("app.setup").joinpath("style.css").read_text(encoding="utf-8")
    headers = _security_headers(config.target.github_url)
    log = structlog.get_logger("archbot.setup")

    def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = templates.get_template(template).render(version=__version__, **values)
        return HTMLResponse(html, status_code=status, headers=headers)

    def problem(status: int, title: str, message: str) -> HTMLResponse:
        return page("problem.html", status, title=title, message=message)

    async def setup_page(request: Request) -> Response:
        base = _origin(config, request)
        if base is None:
            return problem(400, "Open this page on its own address", _wrong_host(config))
        values: dict[str, Any] = {
            "refusal": _refusal(config),
            "webhook_url": config.target.webhook_url,
            "org": config.target.org,
            "github_url": config.target.github_url,
            "env_path": str(config.env_path),
            "permissions": sorted(PERMISSIONS.items()),
            "events": EVENTS,
            "always_delivered": ALWAYS_DELIVERED,
        }
        if values["refusal"] or not values["webhook_url"]:
            return page("setup.html", **values)
        state = config.states.issue()
        document = manifest(config.target, redirect_url=base + CALLBACK_PATH)
        values |= {"action": config.target.new_app_url(state), "manifest_json": json.dumps(document)}
        response = page("setup.html", **values)
        response.set_cookie(
            STATE_COOKIE,
            state,
            max_age=int(config.states.ttl),
            path=CALLBACK_PATH,
            httponly=True,
            samesite="lax",  # sent on GitHub's top-level redirect back, not on cross-site sub-requests
            secure=base.startswith("https://"),
        )
        return response

    async def callback(request: Request) -> Response:
        code = request.query_params.get("code", "")
        state = request.query_params.get("state", "")
        if not config.states.consume(state, cookie=request.cookies.get(STATE_COOKIE)):
            log.warning("setup.callback_refused", reason="state")
            return problem(
                403,
                "This registration was not started here",
                "The link's state is unknown, already used or expired, or it was opened in another browser. "
                "Start again from this page; GitHub keeps any App it registered (delete it in its settings).",
            )
        blocked = _refusal(config)
        if blocked:  # before the code is spent: it works only once
            log.warning("setup.callback_refused", reason="env_file")
            return problem(409, "Settings exist already", blocked)
        outcome = await _register(config, code, log)
        if isinstance(outcome, _Problem):
            return problem(*outcome)
        new_app, written = outcome
        log.info("setup.app_registered", app_id=new_app.id, slug=new_app.slug, env_file=str(written.env_path))
        response = page(
            "done.html",
            slug=new_app.slug,
            app_id=new_app.id,
            env_path=str(written.env_path),
            key_path=str(written.key_path),
            install_url=_install_url(config.target, new_app),
            next_step=config.next_step,
        )
        response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
        if config.on_registered is not None:
            registration = Registration(new_app.id, new_app.slug, written, _install_url(config.target, new_app))
            response.background = BackgroundTask(_notify, config.on_registered, registration)
        return response

    async def healthz() -> Response:
        return JSONResponse({"status": "ok", "setup": "waiting for the App's registration"})

    async def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers=headers)

    async def webhook_before_setup() -> Response:
        return JSONResponse({"error": "archbot is not set up yet: register the App on its setup page"}, 503)

    app.add_api_route("/", setup_page, methods=["GET"])
    app.add_api_route(CALLBACK_PATH, callback, methods=["GET"])
    app.add_api_route("/healthz", healthz, methods=["GET"])
    app.add_api_route("/setup/style.css", stylesheet, methods=["GET"])
    app.add_api_route("/webhook", webhook_before_setup, methods=["POST"])
    return app


def _origin(config: SetupConfig, request: Request) -> str | None:
    """Where the browser reached the page, if it is a host archbot expects (a rebinding DNS name is not)."""
    host = request.headers.get("host", "")
    name = urlsplit(f"//{host}").hostname
    if name is None or name not in config.allowed_hosts():
        return None
    public = config.target.public_url
    if public and urlsplit(public).netloc == host:
        return public
    return f"{request.url.scheme}://{host}"


class _Problem(NamedTuple):
    status: int
    title: str
    message: str


async def _register(config: SetupConfig, code: str, log: FilteringBoundLogger) -> tuple[NewApp, Written] | _Problem:
    """Exchange the code and write the credentials; or the problem page's status, title and message."""
    try:
        new_app = await convert(config.target.api_url, code, transport=config.transport)
    except ConversionError as exc:
        log.warning("setup.conversion_failed", problem=exc.problem)
        return _Problem(_STATUS[exc.problem], _TITLES[exc.problem], str(exc))
    try:
        written = await asyncio.to_thread(
            write_credentials, config.env_path, new_app, api_url=config.target.api_url, force=config.force
        )
    except EnvFileError as exc:
        log.error("setup.write_failed", error=str(exc))
        return _Problem(500, "The settings could not be written", str(exc))
    return new_app, written


async def _notify(callback: Callable[[Registration], Awaitable[None] | None], registration: Registration) -> None:
    outcome = callback(registration)
    if outcome is not None:
        await outcome


def _refusal(config: SetupConfig) -> str | None:
    try:
        return refusal(config.env_path, force=config.force)
    except EnvFileError as exc:
        return str(exc)


def _install_url(target: SetupTarget, new_app: NewApp) -> str:
    """``<html_url>/installations/new`` when GitHub's ``html_url`` is on the GitHub archbot registered with."""
    github = urlsplit(target.github_url)
    answered = urlsplit(new_app.html_url)
    same_site = answered.scheme == github.scheme and answered.netloc == github.netloc
    html_url = new_app.html_url.rstrip("/") if same_site else f"{target.github_url}/apps/{new_app.slug}"
    return f"{html_url}/installations/new"


def _wrong_host(config: SetupConfig) -> str:
    hosts = ", ".join(sorted(config.allowed_hosts()))
    return f"archbot's setup answers only on these host names: {hosts} (or pass --public-url with yours)."
