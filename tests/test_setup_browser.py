"""``archbot setup`` clicked through in a real browser (Playwright + Debian's Chromium, JavaScript off)
against the fake GitHub served as a GitHub Enterprise Server: the setup page's form posts the manifest,
the fake's "new App" page confirms it, GitHub's redirect comes back to archbot, which writes ``.env``
and the key (mode 0600) and shows the install link. Screenshots of each page go to tests/artifacts/."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from dotenv import dotenv_values

from tests.browser import browser, console_errors, page, screenshot
from tests.fakegithub import FakeGitHub, serve_fake
from tests.serve_process import free_port
from tests.test_setup_cli import _env, _start, _wait

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["browser", "page"]  # the fixtures, imported for pytest

pytestmark = pytest.mark.slow


def test_register_the_app_in_the_browser(page: Page, tmp_path: Path) -> None:
    fake = FakeGitHub(prefix="/api/v3")
    with serve_fake(fake) as api_url:
        web = api_url.removesuffix("/api/v3")
        port = free_port()
        args = ["setup", "--public-url", "https://archbot.example.com", "--github-url", web, "--port", str(port)]
        proc = _start(args, tmp_path, _env())
        try:
            local = f"http://127.0.0.1:{port}"
            _wait(local, proc, tmp_path)

            page.goto(local + "/")
            assert page.locator("form#manifest-form").count() == 1
            screenshot(page, "setup-1-register")
            page.click("button#register")

            page.wait_for_selector("form#create-app")  # the fake GitHub's "new App" page
            assert page.url.startswith(web)
            screenshot(page, "setup-2-github-new-app")
            page.click("button#create")

            page.wait_for_selector("a#install")  # back on archbot's callback
            assert page.url.startswith(local)
            install = page.locator("a#install").get_attribute("href") or ""
            screenshot(page, "setup-3-installed")
            shown = page.content()
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    created = fake.manifest_apps[-1]
    assert install.endswith("/installations/new") and created.slug in install
    values = dotenv_values(tmp_path / ".env")
    assert values["GITHUB_APP_ID"] == str(created.id)
    assert values["GITHUB_WEBHOOK_SECRET"] == created.webhook_secret
    key = Path(str(values["GITHUB_PRIVATE_KEY_PATH"]))
    assert key.read_text() == created.pem
    for path in (tmp_path / ".env", key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stderr = (tmp_path / "stderr.log").read_text()
    for secret in (created.webhook_secret, created.client_secret, created.pem.splitlines()[1]):
        assert secret not in stderr and secret not in shown
    # the browser asks for /favicon.ico (404 at the fake, refused once setup has exited); no CSP violation
    assert [e for e in console_errors(page) if "Content Security Policy" in e] == []
