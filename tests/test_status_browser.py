"""The status page in a real browser (Playwright + Debian's Chromium, JavaScript off) on a real
``archbot serve`` against the fake GitHub and the fake model: logged out and logged in (the form), a wrong
token refused, before and after a review driven by a signed webhook. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from app import __version__
from app.status.auth import COOKIE_NAME
from tests.browser import browser, console_errors, cookie, page, screenshot
from tests.e2e import BASE, INSTALLATION, PRS, REPO, SHA1, pr_payload
from tests.fakegithub import FakeGitHub, app_private_key, serve_fake
from tests.fakemodel import FakeModel, serve_model
from tests.serve_process import Serve, job_states, serve_env, wait_until
from tests.webhook_helpers import SECRET

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["browser", "page"]  # the fixtures, imported for pytest

pytestmark = pytest.mark.slow

TOKEN = "browser-status-token-5f0c9e"
PR_KEY = f"review_pr:{REPO}#7@{SHA1}:incr"
DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
FILE_V1 = (PRS / "inference_v1.py").read_text()
FINDING = {
    "path": "service/inference.py",
    "line": 36,
    "side": "RIGHT",
    "severity": "high",
    "category": "security",
    "title": "Raw request body logged",
    "rationale": "Logging the request body leaks user data.",
}


@dataclass
class World:
    fake: FakeGitHub
    server: Serve
    db: Path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    key = app_private_key()
    fake = FakeGitHub(app_id=4242, slug="archbot", private_key=key)
    fake.add_installation(INSTALLATION)
    fake.add_repo(REPO)
    fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1})
    model = FakeModel()
    model.script("submit_review", {"summary": "Logs user data.", "findings": [FINDING]})
    db = tmp_path / "archbot.db"
    with serve_fake(fake) as github_url, serve_model(model) as model_url:
        env = serve_env(app_id=4242, private_key=key, github_url=github_url, db=db, model_url=model_url)
        env["ARCHBOT_STATUS_TOKEN"] = TOKEN
        server = Serve(env, tmp_path)
        try:
            server.wait_healthy()
            yield World(fake, server, db)
        finally:
            server.stop()


def log_in(tab: Page, token: str) -> None:
    tab.fill("#token", token)
    tab.click("#login button[type=submit]")


def assert_logged_out(tab: Page) -> None:
    assert tab.locator("#version").inner_text() == __version__
    assert tab.locator("#health").inner_text() == "Healthy"
    assert tab.locator("#queue").count() == 0 and tab.locator("#reviews").count() == 0
    assert tab.locator("#login form").count() == 1


def queue_depth(tab: Page) -> dict[str, int]:
    cells = tab.locator("#queue td[data-state]")
    states = [cells.nth(i) for i in range(cells.count())]
    return {cell.get_attribute("data-state") or "": int(cell.inner_text()) for cell in states}


def test_status_page_before_and_after_a_review(world: World, page: Page) -> None:
    url = world.server.url
    tab = page
    tab.goto(url + "/")
    assert_logged_out(tab)
    # the stylesheet loaded under the CSP (style-src 'self'): the health badge is styled
    assert tab.locator("#health").evaluate("e => getComputedStyle(e).fontWeight") == "700"
    screenshot(tab, "status-logged-out-before")

    log_in(tab, "not-the-token")
    assert "Wrong status token." in tab.locator("#message").inner_text()
    assert tab.locator("#queue").count() == 0 and cookie(tab, COOKIE_NAME) is None
    screenshot(tab, "status-wrong-token")

    log_in(tab, TOKEN)
    assert tab.url.rstrip("/") == url
    session = cookie(tab, COOKIE_NAME)
    assert session is not None and session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert TOKEN not in str(session["value"])
    assert queue_depth(tab) == {"queued": 0, "running": 0, "done": 0, "failed": 0, "superseded": 0}
    assert "No review has finished yet." in tab.locator("#reviews").inner_text()
    screenshot(tab, "status-logged-in-before")

    assert world.server.deliver("pull_request", pr_payload("opened")).status_code == 202
    wait_until(lambda: job_states(world.db).get(PR_KEY) == "done", 60.0, "the review finished", world.server)

    tab.goto(url + "/")  # still logged in: the cookie
    assert queue_depth(tab)["done"] == 1
    link = tab.locator("#reviews a")
    assert link.count() == 1 and link.inner_text() == f"{REPO}#7"
    assert (link.get_attribute("href") or "").endswith(f"/{REPO}/pull/7")
    rates = tab.locator("#rates").inner_text()
    assert "Model calls failed" in rates and "GitHub requests" in rates
    model_calls = int(tab.locator("#rates tbody tr").nth(0).locator("td").nth(1).inner_text())
    github_calls = int(tab.locator("#rates tbody tr").nth(1).locator("td").nth(1).inner_text())
    assert model_calls == 1 and github_calls > 0  # the review's model call and GitHub requests were counted
    spend = tab.locator("#spend").inner_text()
    assert str(INSTALLATION) in spend  # the fake model's tokens, against the daily budget
    html = tab.content()
    assert "leaks user data" not in html and "Raw request body" not in html and "+" + FILE_V1[:20] not in html
    screenshot(tab, "status-logged-in-after")

    tab.click(".logout button[type=submit]")
    assert cookie(tab, COOKIE_NAME) is None
    assert_logged_out(tab)
    assert REPO not in tab.content()
    screenshot(tab, "status-logged-out-after")
    assert not [e for e in console_errors(tab) if "Content Security Policy" in e or "Refused" in e]
    log = world.server.stderr()
    assert TOKEN not in log and SECRET not in log and "not-the-token" not in log  # no token reaches a log line
