"""Tokens and keys (issue 17): the App JWT's ``iat`` is 60 s in the past and its ``exp`` at most 10 minutes
out; installation tokens are renewed before they expire and after a 401; concurrent jobs of one
installation share one token exchange; the private key, the JWTs and the tokens never reach the logs,
even with every logger at DEBUG. GitHub is the strict fake (it checks every JWT against the App's key
and refuses tokens past their ``expires_at``)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from app.github.client import GitHubFactory
from app.logs import configure_logging
from tests.e2e import INSTALLATION, REPO, SHA1, SHA2, make_harness, pr_payload
from tests.fakegithub import FakeGitHub
from tests.test_write_pacing import DIFF_V1, FILE_V1, LEAK

BASE = "b" * 40


def fake_with_repo(installations: tuple[int, ...] = (INSTALLATION,)) -> FakeGitHub:
    fake = FakeGitHub()
    for installation in installations:
        fake.add_installation(installation)
    fake.add_repo(REPO)
    fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE)
    return fake


def factory_for(fake: FakeGitHub) -> GitHubFactory:
    return GitHubFactory(
        api_url="http://gh.test", app_id=fake.app_id, private_key=fake.private_key, async_transport=fake.transport()
    )


async def test_app_jwt_is_issued_60_s_in_the_past_and_expires_within_10_minutes() -> None:
    fake = fake_with_repo()
    before = time.time()
    await factory_for(fake).identify()
    after = time.time()
    (claims,) = fake.jwt_claims  # verified by the fake against the App's public key
    assert claims["iss"] == str(fake.app_id)
    assert before - 62 <= claims["iat"] <= after - 58
    assert claims["exp"] - claims["iat"] <= 600
    assert claims["exp"] <= after + 540 + 1  # at most 9 minutes left at signing (10 from iat)
    assert claims["exp"] > claims["seen_at"]


async def test_installation_token_is_renewed_before_it_expires() -> None:
    """githubkit drops a cached token one minute before ``expires_at``: with a 62 s lifetime a token is
    used for about a second, and the call after that exchanges a new one instead of sending the old
    token into a 401."""
    fake = fake_with_repo()
    fake.token_lifetime = 62.0
    api = factory_for(fake).repo_api(*REPO.split("/"), installation_id=INSTALLATION)
    assert await api.get_diff(7) == DIFF_V1
    assert await api.get_diff(7) == DIFF_V1  # within the token's cached life: no new exchange
    assert fake.token_exchanges == 1
    await asyncio.sleep(3.0)  # past expires_at minus githubkit's one-minute margin
    assert await api.get_diff(7) == DIFF_V1
    assert fake.token_exchanges == 2
    assert not [r for r in fake.requests if r.status == 401]  # renewed before, not after, the expiry


async def test_a_401_gets_a_fresh_token_and_one_more_try() -> None:
    fake = fake_with_repo()
    api = factory_for(fake).repo_api(*REPO.split("/"), installation_id=INSTALLATION)
    assert await api.get_diff(7) == DIFF_V1
    fake.revoke_tokens()
    assert await api.get_diff(7) == DIFF_V1
    assert fake.token_exchanges == 2
    assert [r.status for r in fake.requests if not r.token_exchange][-2:] == [401, 200]


async def test_concurrent_jobs_of_one_installation_share_one_token_exchange() -> None:
    installations = (11, 12, 13, 14)
    fake = fake_with_repo(installations)
    fake.latency = 0.2  # every answer late, so the calls really overlap on an empty token cache
    factory = factory_for(fake)
    apis = [factory.repo_api(*REPO.split("/"), installation_id=i) for i in installations for _ in range(3)]
    diffs = await asyncio.gather(*(api.get_diff(7) for api in apis))
    assert diffs == [DIFF_V1] * len(apis)
    assert fake.token_exchanges == len(installations)
    users = {r.path for r in fake.requests if r.token_exchange}
    assert users == {f"/app/installations/{i}/access_tokens" for i in installations}


async def test_concurrent_401s_of_one_installation_share_one_new_token() -> None:
    fake = fake_with_repo()
    fake.latency = 0.1
    factory = factory_for(fake)
    apis = [factory.repo_api(*REPO.split("/"), installation_id=INSTALLATION) for _ in range(4)]
    assert await asyncio.gather(*(api.get_diff(7) for api in apis)) == [DIFF_V1] * 4
    assert fake.token_exchanges == 1
    fake.revoke_tokens()
    assert await asyncio.gather(*(api.get_diff(7) for api in apis)) == [DIFF_V1] * 4
    assert fake.token_exchanges == 2  # four 401s, one new token
    fake.revoke_tokens()  # and the next revocation is noticed again
    assert await apis[0].get_diff(7) == DIFF_V1
    assert fake.token_exchanges == 3


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """archbot's logging as in production (JSON lines) and every library logger at DEBUG."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    configure_logging("DEBUG", fmt="json", stream=buffer)
    root.setLevel(logging.DEBUG)
    for name in ("httpx", "httpcore", "githubkit", "app"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:  # leave logging as it was: later tests capture structlog's default output
        structlog.reset_defaults()
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name in ("httpx", "httpcore", "githubkit", "app"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def key_material(fake: FakeGitHub) -> list[str]:
    """Distinctive lines of the PEM (its body, not the BEGIN/END lines)."""
    return [line for line in fake.private_key.splitlines() if line and not line.startswith("-----")]


async def test_key_jwts_and_tokens_never_logged_at_debug(tmp_path: Path, debug_logs: io.StringIO) -> None:
    fake = FakeGitHub()
    fake.add_installation(INSTALLATION)
    fake.add_repo(REPO)
    for number, sha in ((7, SHA1), (8, SHA2)):
        files = {"service/inference.py": FILE_V1}
        fake.add_pr(REPO, number, diff=DIFF_V1, head_sha=sha, base_sha=BASE, head_files=files)
    h = await make_harness(tmp_path, fake=fake)
    try:
        h.model.script("submit_review", {"summary": "Logs user data.", "findings": [LEAK]})
        assert (await h.deliver("pull_request", pr_payload("opened"))).status_code == 202
        await h.drain()
        fake.revoke_tokens()  # the next job meets a 401 and exchanges a new token
        assert (await h.deliver("pull_request", pr_payload("opened", number=8, sha=SHA2))).status_code == 202
        await h.drain()
    finally:
        await h.close()
    assert len(h.reviews(7)) == len(h.reviews(8)) == 1
    assert fake.token_exchanges >= 2
    logs = debug_logs.getvalue()
    assert "job.done" in logs  # the capture saw the jobs
    assert any(r.status == 401 for r in fake.requests)
    credentials = fake.credentials_seen
    assert any(c.startswith("ghs_") for c in credentials) and any(c.startswith("ey") for c in credentials)
    for secret in credentials:
        assert secret not in logs
        assert secret[:20] not in logs
    for line in key_material(fake):
        assert line not in logs
