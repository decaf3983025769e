"""Browser fixtures for tests: Playwright driving Debian's Chromium (no browser download).

``browser`` is one Chromium per test module (Playwright's sync API runs an event loop while it is open,
which would break the asyncio tests of later modules); ``page`` a fresh context (no cookies) with JavaScript
OFF — archbot's pages must work without it — whose console is collected (``console_errors``).
Without Chromium or Playwright the tests skip with a one-line reason, unless ``ARCHBOT_REQUIRE_BROWSER=1``
(set by ``.ci/run``): then they fail. ``screenshot`` keeps a full-page PNG under ``tests/artifacts/``
(git-ignored). Import the fixtures into a test module: ``from tests.browser import browser, page``;
``open_page(browser, javascript=True)`` gives a tab with JavaScript on.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("ARCHBOT_CHROMIUM", "/usr/bin/chromium")


def _unavailable(reason: str) -> None:
    if os.environ.get("ARCHBOT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser required (ARCHBOT_REQUIRE_BROWSER=1): {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")  # playwright's sync API holds an event loop: not past the module
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def open_page(browser: Browser, *, javascript: bool = False) -> Iterator[Page]:
    """A tab in a fresh context (no cookies), JavaScript off unless asked, its console errors collected."""
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.console_errors = errors  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with open_page(browser) as tab:
        yield tab


def console_errors(tab: Page) -> list[str]:
    """Errors the page logged (a Content-Security-Policy violation is one)."""
    errors: list[str] = getattr(tab, "console_errors", [])
    return errors


def screenshot(tab: Page, name: str) -> Path:
    """Keep a full-page screenshot as ``tests/artifacts/<name>.png``; its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '-', name)}.png"
    tab.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


def cookie(tab: Page, name: str) -> dict[str, Any] | None:
    """The browser's cookie ``name`` (with its httpOnly and sameSite flags), if set."""
    for c in tab.context.cookies():
        if c.get("name") == name:
            return dict(c)
    return None
