"""``archbot setup`` and ``archbot serve`` without App credentials as real processes (in a temporary
working directory: that is where ``.env`` goes) against the fake GitHub served on loopback as a GitHub
Enterprise Server (web pages at /, the API at /api/v3)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from dotenv import dotenv_values

from tests.fakegithub import FakeGitHub, serve_fake
from tests.serve_process import free_port
from tests.test_setup import parse

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_"))}
    return env | {"PYTHONPATH": str(ROOT), "ARCHBOT_LOG_FORMAT": "json", "ARCHBOT_LOG_LEVEL": "DEBUG"} | (extra or {})


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub(prefix="/api/v3")
    with serve_fake(fake) as api_url:
        yield fake, api_url.removesuffix("/api/v3")


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with (cwd / "stderr.log").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args], cwd=cwd, env=env, stdout=err, stderr=err, stdin=subprocess.DEVNULL
        )


def _wait(url: str, proc: subprocess.Popen[bytes], cwd: Path, path: str = "/healthz", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, (cwd / "stderr.log").read_text()
        try:
            if httpx.get(url + path, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, (cwd / "stderr.log").read_text()
        time.sleep(0.05)


def _register(local: str, fake: FakeGitHub, *, become: bool = False) -> httpx.Response:
    """What the browser does: the form to GitHub, GitHub's confirmation, the redirect back."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(local + "/")
        assert page.status_code == 200, page.text
        action, fields = parse(page.text).forms["manifest-form"]
        shown = browser.post(action, data=fields)
        confirm_action, confirm = parse(shown.text).forms["create-app"]
        origin = urlsplit(action)
        redirect = browser.post(f"{origin.scheme}://{origin.netloc}{confirm_action}", data=confirm)
        assert redirect.status_code == 302
        if become:
            fake.become(fake.manifest_apps[-1])  # the fake now answers GET /app for the new App
        return browser.get(redirect.headers["location"])


def test_setup_registers_writes_env_and_exits(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, web = github
    port = free_port()
    args = ["setup", "--public-url", "https://archbot.example.com", "--github-url", web, "--port", str(port)]
    proc = _start(args, tmp_path, _env())
    try:
        local = f"http://127.0.0.1:{port}"
        _wait(local, proc, tmp_path)
        done = _register(local, fake)
        assert done.status_code == 200 and parse(done.text).links["install"].endswith("/installations/new")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    created = fake.manifest_apps[-1]
    stderr = (tmp_path / "stderr.log").read_text()
    assert f"{web}/apps/{created.slug}/installations/new" in stderr
    values = dotenv_values(tmp_path / ".env")
    assert values["GITHUB_APP_ID"] == str(created.id) and values["GITHUB_API_URL"] == f"{web}/api/v3"
    key = Path(str(values["GITHUB_PRIVATE_KEY_PATH"]))
    assert key.read_text() == created.pem and key.parent == tmp_path
    for path in (tmp_path / ".env", key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for secret in (created.webhook_secret, created.client_secret, created.pem.splitlines()[1]):
        assert secret not in stderr and secret not in done.text


def test_setup_refuses_an_env_with_app_settings(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GITHUB_APP_ID=7\n")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "setup", "--public-url", "https://a.example", "--port", str(free_port())],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "already sets GITHUB_APP_ID" in done.stderr and "--force" in done.stderr
    assert (tmp_path / ".env").read_text() == "GITHUB_APP_ID=7\n"


def test_setup_needs_a_public_url(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "setup"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "--public-url" in done.stderr


def test_serve_without_credentials_serves_setup_then_the_app(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, web = github
    port = free_port()
    env = _env({"GITHUB_API_URL": f"{web}/api/v3", "ARCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    proc = _start(["serve", "--port", str(port), "--public-url", "https://archbot.example.com"], tmp_path, env)
    local = f"http://127.0.0.1:{port}"
    try:
        _wait(local, proc, tmp_path)
        assert httpx.get(local + "/healthz").json()["status"] == "ok"
        assert httpx.post(local + "/webhook", content=b"{}").status_code == 503  # not set up yet
        done = _register(local, fake, become=True)
        assert done.status_code == 200, done.text
        _wait(local, proc, tmp_path, path="/readyz")  # the App server, with the .env just written
        assert fake.calls("GET", r"/app")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    created = fake.manifest_apps[-1]
    log = (tmp_path / "stderr.log").read_text()
    assert "setup.app_registered" in log and "app_identified" in log
    for secret in (created.webhook_secret, created.client_secret, created.pem.splitlines()[1]):
        assert secret not in log


def test_serve_without_a_public_url_explains(tmp_path: Path) -> None:
    port = free_port()
    proc = _start(["serve", "--port", str(port)], tmp_path, _env({"ARCHBOT_DATABASE_URL": "sqlite:///x.db"}))
    try:
        _wait(f"http://127.0.0.1:{port}", proc, tmp_path)
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and 'id="no-public-url"' in page.text and "manifest-form" not in page.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
