"""The status page (GET /) through the real FastAPI app as ``archbot serve`` wires it, on a real SQLite store:
public part, bearer and login-form access, cookie flags, CSRF, security headers, and no secret or diff
content on any page."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app import __version__
from app.github.client import SharedTransport
from app.handlers import build_router
from app.jobs import Job, JobKind
from app.metrics import Metrics
from app.queue.sqlite import SQLiteJobQueue
from app.serve import add_status_page
from app.status.auth import COOKIE_NAME, StatusAuth, same_origin
from app.status.data import clean_reason, pr_link, web_url
from app.status.routes import CSP
from app.usage import SQLiteUsageLedger
from app.web import WebhookConfig, create_app
from tests.e2e import settings
from tests.webhook_helpers import SECRET

TOKEN = "status-token-0123456789abcdef"
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
DIFF_LINES = ("+    password = load_the_secret()", "-    return cached_answer")
PLANTED = f"GitHub answered 500: {GHP} {SECRET} {TOKEN}\n" + "\n".join(DIFF_LINES)
BASE_URL = "http://archbot.test"


@dataclass
class World:
    client: httpx.AsyncClient
    queue: SQLiteJobQueue
    ledger: SQLiteUsageLedger
    metrics: Metrics


async def _world(tmp_path: Path, token: str | None) -> AsyncIterator[World]:
    url = f"sqlite:///{tmp_path / 'archbot.db'}"
    queue, ledger, metrics = SQLiteJobQueue(url), SQLiteUsageLedger(url), Metrics()
    s = settings(archbot_status_token=token, github_api_url="https://api.github.com", archbot_daily_token_budget=4000)
    app = create_app(
        config=WebhookConfig(secrets=(SECRET,), max_body_bytes=1024 * 1024),
        store=queue,
        router=build_router(),
        metrics=metrics,
    )
    add_status_page(app, s, queue=queue, ledger=ledger, metrics=metrics)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield World(client, queue, ledger, metrics)
    await queue.close()
    await ledger.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for w in _world(tmp_path, TOKEN):
        yield w


@pytest.fixture
async def tokenless(tmp_path: Path) -> AsyncIterator[World]:
    async for w in _world(tmp_path, None):
        yield w


def job(number: int, *, kind: JobKind = JobKind.REVIEW_PR, sha: str = "1" * 40) -> Job:
    return Job(
        kind=kind,
        repo="octo/app",
        number=number,
        installation_id=42,
        head_sha=sha,
        data={"diff": "\n".join(DIFF_LINES), "body": GHP},  # never shown
    )


async def lease_one(queue: SQLiteJobQueue, j: Job) -> None:
    assert await queue.enqueue(j)


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def form_token(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def assert_clean(html: str) -> None:
    """No secret, token or diff content, no script."""
    for forbidden in (GHP, SECRET, TOKEN, *DIFF_LINES, "load_the_secret", "cached_answer"):
        assert forbidden not in html
    assert "<script" not in html.lower()


async def populate(w: World) -> None:
    """A failed job (with a planted secret and diff in its reason), one waiting to retry, one running,
    one done review, spend and some GitHub and model calls."""
    for n in (1, 2, 3, 4):
        await w.queue.enqueue(job(n))
    leases = await w.queue.lease("w1", 300, limit=4)
    by_number = {lease.job.number: lease for lease in leases}
    assert await w.queue.fail(by_number[1], error=PLANTED)
    assert await w.queue.retry(by_number[2], delay=600, error="GitHub unavailable: 502 Bad Gateway")
    assert await w.queue.complete(by_number[4])
    await w.ledger.add_tokens("inst:42", 1000)
    await w.ledger.add_tokens("pr:octo/app#1", 999)  # not an installation: not listed
    w.metrics.observe_github("ok")
    w.metrics.observe_github("server_error")
    w.metrics.review_model_calls.labels(outcome="ok").inc(3)
    w.metrics.review_model_calls.labels(outcome="error").inc(1)
    w.metrics.worker_up.set(1)


async def test_public_part_shows_version_and_health_only(world: World) -> None:
    await populate(world)
    r = await world.client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert __version__ in html and 'id="health" class="health ok"' in html and "Healthy" in html
    assert 'action="/login"' in html
    assert 'id="queue"' not in html and 'id="failed"' not in html and "octo/app" not in html
    assert_clean(html)


async def test_unhealthy_without_a_running_worker(world: World) -> None:
    world.metrics.worker_up.set(0)
    html = (await world.client.get("/")).text
    assert "Unhealthy" in html and "worker: not running" in html


async def test_security_headers_on_every_page(world: World) -> None:
    for response in (
        await world.client.get("/"),
        await world.client.get("/", headers=bearer()),
        await world.client.get("/", headers=bearer("wrong")),
        await world.client.post("/login", data={"token": TOKEN}),
    ):
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in CSP and "frame-ancestors 'none'" in CSP and "script-src 'none'" in CSP
    css = await world.client.get("/status.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "body" in css.text


async def test_bearer_token_shows_everything(world: World) -> None:
    await populate(world)
    r = await world.client.get("/", headers=bearer())
    assert r.status_code == 200
    html = r.text
    queue = dict(re.findall(r'data-state="(\w+)">(\d+)<', html))
    assert queue == {"queued": "1", "running": "1", "done": "1", "failed": "1", "superseded": "0"}
    failed = html.split('id="failed"')[1].split("</section>")[0]
    assert "GitHub answered 500: [REDACTED" in failed and ">1<" in failed
    retrying = html.split('id="retrying"')[1].split("</section>")[0]
    assert "GitHub unavailable: 502 Bad Gateway" in retrying and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", retrying)
    running = html.split('id="running"')[1].split("</section>")[0]
    assert "octo/app#3" in running
    reviews = html.split('id="reviews"')[1].split("</section>")[0]
    assert 'href="https://github.com/octo/app/pull/4"' in reviews
    spend = html.split('id="spend"')[1].split("</section>")[0]
    assert "<td>42</td>" in spend and ">1000<" in spend and ">4000<" in spend and ">25%<" in spend
    assert "pr:octo" not in spend
    rates = html.split('id="rates"')[1].split("</section>")[0]
    assert "25.0%" in rates and "50.0%" in rates  # model 1 of 4, GitHub 1 of 2
    assert_clean(html)


async def test_last_reviews_are_twenty_newest_first(world: World) -> None:
    for n in range(1, 26):
        await world.queue.enqueue(job(n))
        [lease] = await world.queue.lease("w1", 300)
        await world.queue.complete(lease)
    html = (await world.client.get("/", headers=bearer())).text
    reviews = html.split('id="reviews"')[1].split("</section>")[0]
    numbers = [int(n) for n in re.findall(r"octo/app/pull/(\d+)", reviews)]
    assert numbers == list(range(25, 5, -1))


async def test_wrong_bearer_token_is_refused(world: World) -> None:
    await populate(world)
    for header in ("Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer "):
        r = await world.client.get("/", headers={"authorization": header})
        assert r.status_code == 401, header
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "Wrong status token." in r.text and 'id="queue"' not in r.text and "octo/app" not in r.text


async def test_login_form_sets_a_strict_httponly_cookie_holding_no_token(world: World) -> None:
    await populate(world)
    csrf = form_token((await world.client.get("/")).text)
    r = await world.client.post("/login", data={"token": TOKEN, "csrf": csrf}, headers={"origin": BASE_URL})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert any(f.startswith("max-age=") for f in flags)
    value = cookie.split(";")[0].split("=", 1)[1]
    assert TOKEN not in cookie
    assert value == hmac.new(TOKEN.encode(), b"archbot status session v1", hashlib.sha256).hexdigest()
    world.client.cookies.clear()
    assert 'id="queue"' not in (await world.client.get("/")).text
    page = await world.client.get("/", headers={"cookie": f"{COOKIE_NAME}={value}"})
    assert page.status_code == 200 and 'id="queue"' in page.text and 'action="/logout"' in page.text
    assert_clean(page.text)


async def test_https_login_cookie_is_secure(world: World) -> None:
    csrf = form_token((await world.client.get("/")).text)
    r = await world.client.post("https://archbot.test/login", data={"token": TOKEN, "csrf": csrf})
    assert "secure" in {part.strip().lower() for part in r.headers["set-cookie"].split(";")}


async def test_wrong_token_in_the_form_is_refused(world: World) -> None:
    csrf = form_token((await world.client.get("/")).text)
    r = await world.client.post("/login", data={"token": "not-the-token", "csrf": csrf})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    assert "Wrong status token." in r.text and 'id="queue"' not in r.text


async def test_a_forged_or_foreign_cookie_is_ignored(world: World) -> None:
    other = StatusAuth("another-token-123456").session_value()
    for value in (TOKEN, other, "", "x" * 64):
        r = await world.client.get("/", headers={"cookie": f"{COOKIE_NAME}={value}"})
        assert r.status_code == 200 and 'id="queue"' not in r.text


async def test_login_needs_the_form_token_and_this_origin(world: World) -> None:
    csrf = form_token((await world.client.get("/")).text)
    cases = [
        ({"token": TOKEN}, {}),  # no form token
        ({"token": TOKEN, "csrf": csrf + "0"}, {}),  # forged
        ({"token": TOKEN, "csrf": "1.abcd.ef"}, {}),
        ({"token": TOKEN, "csrf": csrf}, {"origin": "https://evil.example"}),
        ({"token": TOKEN, "csrf": csrf}, {"origin": "null"}),
        ({"token": TOKEN, "csrf": csrf}, {"referer": "https://evil.example/page"}),
    ]
    for data, headers in cases:
        r = await world.client.post("/login", data=data, headers=headers)
        assert r.status_code == 403, (data, headers)
        assert "set-cookie" not in r.headers
    json_post = await world.client.post("/login", json={"token": TOKEN, "csrf": csrf})
    assert json_post.status_code == 403


def test_form_tokens_expire() -> None:
    now = [1_000_000.0]
    auth = StatusAuth(TOKEN, clock=lambda: now[0])
    issued = auth.form_token()
    assert auth.form_token_ok(issued)
    now[0] += 3601
    assert not auth.form_token_ok(issued)
    assert not StatusAuth(TOKEN).form_token_ok(issued)  # another process's key


def test_same_origin() -> None:
    assert same_origin({"origin": "http://h:8000"}, "h:8000")
    assert not same_origin({"origin": "http://h:8001"}, "h:8000")
    assert same_origin({}, "h:8000")


async def test_logout_clears_the_cookie(world: World) -> None:
    value = StatusAuth(TOKEN).session_value()
    page = (await world.client.get("/", headers={"cookie": f"{COOKIE_NAME}={value}"})).text
    r = await world.client.post("/logout", data={"csrf": form_token(page)})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE_NAME}=") and ("max-age=0" in cookie or "expires=" in cookie)
    forged = await world.client.post("/logout", data={"csrf": "x"})
    assert forged.status_code == 403


async def test_without_a_status_token_nobody_logs_in(tokenless: World) -> None:
    await populate(tokenless)
    page = await tokenless.client.get("/")
    assert page.status_code == 200 and "ARCHBOT_STATUS_TOKEN" in page.text and 'action="/login"' not in page.text
    assert (await tokenless.client.get("/", headers=bearer())).status_code == 401
    assert (await tokenless.client.get("/", headers={"authorization": "Bearer "})).status_code == 401
    r = await tokenless.client.post("/login", data={"token": "", "csrf": "x"})
    assert r.status_code == 404 and "set-cookie" not in r.headers


def test_reasons_keep_one_short_clean_line() -> None:
    cleaned = clean_reason(PLANTED, [SECRET, TOKEN])
    assert cleaned == "GitHub answered 500: [REDACTED:github_token] [REDACTED] [REDACTED]"
    assert clean_reason("a\x1b[31mb\u202ec " + "x" * 500).startswith("a [31mb c")
    assert len(clean_reason("x" * 500)) == 200
    assert clean_reason(None) == "" and clean_reason("\n\n") == ""


def test_links() -> None:
    assert web_url("https://api.github.com") == "https://github.com"
    assert web_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com"
    assert pr_link("https://github.com", "octo/app", 7, "review_pr") == "https://github.com/octo/app/pull/7"
    assert pr_link("https://github.com", "octo/app", 7, "review_issue") == "https://github.com/octo/app/issues/7"
    assert pr_link("https://github.com", "octo/app", 7, "command") == "https://github.com/octo/app/issues/7"
    assert pr_link("https://github.com", "octo/../x", 7, "review_pr") is None
    assert pr_link("https://github.com", 'a/b"><x', 7, "review_pr") is None


def test_serve_refuses_a_short_status_token_without_echoing_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_"))}
    env |= {"ARCHBOT_STATUS_TOKEN": "short-tok3n", "GITHUB_WEBHOOK_SECRET": SECRET, "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "ARCHBOT_STATUS_TOKEN" in done.stderr and "short-tok3n" not in done.stderr + done.stdout


async def test_logged_in_with_the_store_gone_says_so(world: World) -> None:
    await world.queue.close()
    r = await world.client.get("/", headers=bearer())
    assert r.status_code == 200
    assert "Unhealthy" in r.text and "store: unreachable" in r.text and "The store is unreachable" in r.text
    assert 'action="/logout"' in r.text and 'action="/login"' not in r.text and 'id="queue"' not in r.text


async def test_github_requests_are_counted_by_outcome_for_the_error_rate() -> None:
    answers = iter([200, 404, 429, 502])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers, None)
        if status is None:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(status)

    metrics = Metrics()
    transport = SharedTransport(httpx.MockTransport(handler), observe=metrics.observe_github)
    async with httpx.AsyncClient(transport=transport, base_url="http://gh.test") as client:
        for _ in range(4):
            await client.get("/x")
        with pytest.raises(httpx.ConnectError):
            await client.get("/x")
    counted = {
        o: metrics.registry.get_sample_value("archbot_github_requests_total", {"outcome": o})
        for o in ("ok", "client_error", "rate_limited", "server_error", "transport_error")
    }
    assert counted == {"ok": 1, "client_error": 1, "rate_limited": 1, "server_error": 1, "transport_error": 1}
