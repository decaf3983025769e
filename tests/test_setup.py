# ruff: noqa: ASYNC240
"""The App manifest flow end to end against the fake GitHub: archbot's setup page, GitHub's "new App"
page, the callback with ``code`` and ``state``, the conversion, ``.env`` and the key file.

In-process: the setup app (httpx ASGI) and the fake (its own ASGI transport), one cookie jar per
"browser". The console script's ``setup`` and ``serve`` without credentials run as subprocesses in
tests/test_setup_cli.py."""

from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from dotenv import dotenv_values

from app.settings import load_settings
from app.setup.conversion import NewApp
from app.setup.envfile import EnvFileError, write_credentials
from app.setup.manifest import EVENTS, PERMISSIONS, build_target
from app.setup.states import StateStore
from app.setup.web import STATE_COOKIE, SetupConfig, create_setup_app
from tests.fakeclock import FakeClock
from tests.fakegithub import FakeGitHub

GHE = "http://ghe.test"  # the fake acts as GitHub Enterprise Server: web pages at /, the API at /api/v3
LOCAL = "http://127.0.0.1:8000"


class _Forms(HTMLParser):
    """The forms of a page: id -> (action, fields)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, tuple[str, dict[str, str]]] = {}
        self.links: dict[str, str] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = a.get("id", "")
            self.forms[self._current] = (a.get("action", ""), {})
        elif tag == "input" and self._current is not None and "name" in a:
            self.forms[self._current][1][a["name"]] = a.get("value", "")
        elif tag == "a" and "id" in a:
            self.links[a["id"]] = a.get("href", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


class Flow:
    """A browser: archbot's setup app on 127.0.0.1:8000 and the fake GitHub on ghe.test."""

    def __init__(self, fake: FakeGitHub, tmp_path: Path, *, force: bool = False, clock: FakeClock | None = None):
        self.fake = fake
        self.env_path = tmp_path / ".env"
        self.config = SetupConfig(
            target=build_target(github_url=GHE, public_url="https://archbot.example.com", org=None),
            env_path=self.env_path,
            force=force,
            transport=fake.transport(),
            states=StateStore(clock=clock) if clock else StateStore(),
        )
        self.archbot = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_setup_app(self.config)), base_url=LOCAL
        )
        self.github = httpx.AsyncClient(transport=fake.transport(), base_url=GHE)

    async def close(self) -> None:
        await self.archbot.aclose()
        await self.github.aclose()

    async def to_github(self) -> str:
        """Load the setup page, submit its form to GitHub, confirm the App: the redirect back (the callback URL)."""
        page = await self.archbot.get("/")
        assert page.status_code == 200, page.text
        action, fields = parse(page.text).forms["manifest-form"]
        assert action.startswith(f"{GHE}/settings/apps/new?state=")
        shown = await self.github.post(action, data=fields)
        assert shown.status_code == 200, shown.text
        confirm_action, confirm = parse(shown.text).forms["create-app"]
        redirect = await self.github.post(confirm_action, data=confirm)
        assert redirect.status_code == 302, redirect.text
        return redirect.headers["location"]

    async def back(self, location: str) -> httpx.Response:
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}" == LOCAL
        return await self.archbot.get(f"{parts.path}?{parts.query}")


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub(prefix="/api/v3")


@pytest.fixture
async def flow(fake: FakeGitHub, tmp_path: Path) -> AsyncIterator[Flow]:
    f = Flow(fake, tmp_path)
    yield f
    await f.close()


def secrets_of(fake: FakeGitHub) -> list[str]:
    app = fake.manifest_apps[-1]
    body_lines = [line for line in app.pem.splitlines() if line and "-----" not in line]
    return [app.webhook_secret, app.client_secret, *body_lines[:3]]


async def test_the_form_posts_archbots_manifest_with_a_state_and_a_cookie(flow: Flow) -> None:
    page = await flow.archbot.get("/")
    assert page.status_code == 200
    action, fields = parse(page.text).forms["manifest-form"]
    state = parse_qs(urlsplit(action).query)["state"][0]
    assert len(state) >= 40 and page.cookies[STATE_COOKIE] == state
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/setup/callback" in cookie
    document = json.loads(fields["manifest"])
    assert document["hook_attributes"] == {"url": "https://archbot.example.com/webhook", "active": True}
    assert document["redirect_url"] == f"{LOCAL}/setup/callback"
    assert (
        document["default_permissions"]
        == PERMISSIONS
        == {
            "contents": "read",
            "metadata": "read",
            "pull_requests": "write",
            "issues": "write",
            "checks": "write",
        }
    )
    assert document["default_events"] == list(EVENTS)
    assert "installation" not in document["default_events"]  # GitHub refuses it: every App gets it anyway
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and f"form-action 'self' {GHE}" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    # two page loads, two states
    again = await flow.archbot.get("/")
    assert parse_qs(urlsplit(parse(again.text).forms["manifest-form"][0]).query)["state"][0] != state


async def test_organization_and_github_com_urls(tmp_path: Path) -> None:
    target = build_target(github_url=None, public_url="https://a.example/x/", org="octo-org")
    assert target.api_url == "https://api.github.com"
    assert target.new_app_url("s") == "https://github.com/organizations/octo-org/settings/apps/new?state=s"
    assert target.webhook_url == "https://a.example/x/webhook"
    assert build_target(github_url="https://ghe.corp/", public_url=None, org=None).api_url == "https://ghe.corp/api/v3"


async def test_registration_writes_env_and_key_0600_and_links_the_installation(
    flow: Flow, fake: FakeGitHub, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    done = await flow.back(await flow.to_github())
    assert done.status_code == 200, done.text
    created = fake.manifest_apps[-1]
    install = parse(done.text).links["install"]
    assert install == f"{GHE}/apps/{created.slug}/installations/new"
    assert (await flow.github.get(install)).status_code == 200
    values = dotenv_values(flow.env_path)
    key_path = Path(str(values["GITHUB_PRIVATE_KEY_PATH"]))
    assert values["GITHUB_APP_ID"] == str(created.id)
    assert values["GITHUB_WEBHOOK_SECRET"] == created.webhook_secret
    assert values["GITHUB_API_URL"] == f"{GHE}/api/v3"
    assert key_path.read_text() == created.pem
    for path in (flow.env_path, key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert fake.calls("POST", r"/app-manifests/.+/conversions")
    # what archbot serve would load from it
    settings = load_settings(_env_file=flow.env_path)
    assert settings.github_app_id == created.id and settings.private_key() == created.pem
    # no secret on a page, in a log record or in the cookie
    logged = capsys.readouterr()
    assert "setup.app_registered" in logged.out + logged.err
    for secret in secrets_of(fake):
        assert secret not in done.text
        assert secret not in caplog.text and secret not in logged.out + logged.err


async def test_a_replayed_callback_is_refused_without_asking_github(flow: Flow, fake: FakeGitHub) -> None:
    location = await flow.to_github()
    assert (await flow.back(location)).status_code == 200
    conversions = len(fake.calls("POST", r"/app-manifests/.+/conversions"))
    env_before = flow.env_path.read_bytes()
    replay = await flow.back(location)
    assert replay.status_code == 403
    assert "not started here" in replay.text
    assert len(fake.calls("POST", r"/app-manifests/.+/conversions")) == conversions
    assert flow.env_path.read_bytes() == env_before


async def test_a_code_github_no_longer_knows_gets_a_clear_page(flow: Flow, fake: FakeGitHub) -> None:
    location = await flow.to_github()
    code = parse_qs(urlsplit(location).query)["code"][0]
    used = await flow.github.post(f"/api/v3/app-manifests/{code}/conversions")  # someone spent it first
    assert used.status_code == 201
    page = await flow.back(location)
    assert page.status_code == 410
    assert "used already or is over an hour old" in page.text
    assert not flow.env_path.exists()


async def test_an_expired_code(fake: FakeGitHub, tmp_path: Path) -> None:
    clock = FakeClock()
    fake.clock = clock
    flow = Flow(fake, tmp_path)
    try:
        location = await flow.to_github()
        clock.advance(3601)
        page = await flow.back(location)
        assert page.status_code == 410 and "expired" in page.text
    finally:
        await flow.close()


async def test_an_expired_state_is_refused(fake: FakeGitHub, tmp_path: Path) -> None:
    clock = FakeClock()
    flow = Flow(fake, tmp_path, clock=clock)
    try:
        location = await flow.to_github()
        clock.advance(16 * 60)
        page = await flow.back(location)
        assert page.status_code == 403
        assert not fake.calls("POST", r"/app-manifests/.+/conversions")
    finally:
        await flow.close()


@pytest.mark.parametrize("how", ["unknown_state", "no_cookie", "no_state"])
async def test_a_callback_not_started_here_is_refused(flow: Flow, fake: FakeGitHub, how: str) -> None:
    location = await flow.to_github()
    query = parse_qs(urlsplit(location).query)
    code, state = query["code"][0], query["state"][0]
    if how == "unknown_state":
        response = await flow.archbot.get("/setup/callback", params={"code": code, "state": "x" * 43})
    elif how == "no_cookie":  # a link crafted elsewhere, opened in a browser without the cookie
        flow.archbot.cookies.clear()
        response = await flow.archbot.get("/setup/callback", params={"code": code, "state": state})
    else:
        response = await flow.archbot.get("/setup/callback", params={"code": code})
    assert response.status_code == 403
    assert not fake.calls("POST", r"/app-manifests/.+/conversions")
    assert not flow.env_path.exists()


@pytest.mark.parametrize(("status", "page_status", "text"), [(422, 422, "refused"), (500, 502, "HTTP 500")])
async def test_a_github_error_during_conversion(
    flow: Flow, fake: FakeGitHub, status: int, page_status: int, text: str
) -> None:
    location = await flow.to_github()
    fake.fail_next("POST", r"/app-manifests/.+/conversions", status=status)
    page = await flow.back(location)
    assert page.status_code == page_status
    assert text in page.text
    assert parse(page.text).links["start-again"] == "/"
    assert not flow.env_path.exists()


async def test_an_existing_env_with_app_settings_is_kept(fake: FakeGitHub, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GITHUB_APP_ID=1\nANTHROPIC_API_KEY=sk-keep\n")
    flow = Flow(fake, tmp_path)
    try:
        page = await flow.archbot.get("/")
        assert "manifest-form" not in page.text and "--force" in page.text
        assert (tmp_path / ".env").read_text() == "GITHUB_APP_ID=1\nANTHROPIC_API_KEY=sk-keep\n"
    finally:
        await flow.close()


async def test_env_written_between_form_and_callback_is_not_overwritten(flow: Flow, fake: FakeGitHub) -> None:
    location = await flow.to_github()
    flow.env_path.write_text("GITHUB_WEBHOOK_SECRET=mine\n")
    page = await flow.back(location)
    assert page.status_code == 409
    assert flow.env_path.read_text() == "GITHUB_WEBHOOK_SECRET=mine\n"
    assert not fake.calls("POST", r"/app-manifests/.+/conversions")  # the code is not spent


async def test_other_settings_are_kept_and_force_replaces_only_the_apps(fake: FakeGitHub, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('ANTHROPIC_API_KEY=sk-keep\n# mine\nGITHUB_PRIVATE_KEY="-----BEGIN\nold\n-----END"\n')
    flow = Flow(fake, tmp_path, force=True)
    try:
        assert (await flow.back(await flow.to_github())).status_code == 200
    finally:
        await flow.close()
    values = dotenv_values(env)
    assert values["ANTHROPIC_API_KEY"] == "sk-keep"
    assert "GITHUB_PRIVATE_KEY" not in values and values["GITHUB_APP_ID"] == str(fake.manifest_apps[-1].id)
    assert "# mine" in env.read_text()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


async def test_a_foreign_host_name_gets_no_form(flow: Flow) -> None:
    """A DNS-rebinding page reaching 127.0.0.1 under its own name must not get a redirect_url to itself."""
    page = await flow.archbot.get("/", headers={"host": "evil.example:8000"})
    assert page.status_code == 400 and "manifest-form" not in page.text


async def test_the_fake_refuses_what_github_refuses(fake: FakeGitHub) -> None:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=GHE) as github:
        document = {
            "url": "https://x.example",
            "redirect_url": "http://127.0.0.1/cb",
            "hook_attributes": {"url": "https://x.example/webhook"},
            "default_permissions": {"issues": "write"},
            "default_events": ["issues", "installation"],
        }
        refused = await github.post("/settings/apps/new", data={"manifest": json.dumps(document)})
        assert refused.status_code == 422 and "Default events unsupported: installation" in refused.text
        document["default_events"] = ["check_run"]
        refused = await github.post("/settings/apps/new", data={"manifest": json.dumps(document)})
        assert "not supported by permissions: check_run" in refused.text
        assert (await github.post("/api/v3/app-manifests/nope/conversions")).status_code == 404


def test_no_secret_pattern_in_templates() -> None:
    """The pages are autoescaped templates; none renders a secret variable."""
    root = Path(__file__).resolve().parent.parent / "app" / "setup" / "templates"
    for template in root.glob("*.html"):
        assert not re.search(r"\{\{[^}]*(pem|secret|code)[^}]*\}\}", template.read_text()), template


def _new_app(secret: str) -> NewApp:
    return NewApp.model_validate(
        {"id": 5, "slug": "archbot", "name": "archbot", "html_url": "https://github.com/apps/archbot", "pem": "PEM\n",
         "webhook_secret": secret}
    )  # fmt: skip


@pytest.mark.parametrize("secret", ["a\"b\\c'd e#f", "x\ny", "plain$HOME"])
def test_env_values_read_back_exactly(tmp_path: Path, secret: str) -> None:
    written = write_credentials(tmp_path / ".env", _new_app(secret), api_url="https://api.github.com", force=False)
    values = dotenv_values(written.env_path)
    assert values["GITHUB_WEBHOOK_SECRET"] == secret and "GITHUB_API_URL" not in values


def test_a_value_dotenv_would_expand_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError, match="expand"):
        write_credentials(tmp_path / ".env", _new_app("a${HOME}"), api_url="https://api.github.com", force=False)
    assert list(tmp_path.iterdir()) == []
