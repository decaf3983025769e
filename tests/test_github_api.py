"""app.github against the fake GitHub (and respx where exact URLs and headers matter)."""

from __future__ import annotations

import gc
import inspect
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from app.github import convert
from app.github.api import RepoAPI
from app.github.client import GitHubFactory
from app.github.errors import GraphQLQueryError, NotFound, RateLimited, ServerError, Unauthorized, Unprocessable
from app.github.graphql_queries import optional_refusal
from app.github.pacing import WritePacer
from tests.fakegithub import ACTIONS_TOKEN, FakeGitHub, app_private_key

HEAD = "b" * 40
BASE = "a" * 40
REPO = "octo/app"
CONFIG = "review:\n  enabled: true\n"

DIFF = """diff --git a/app/x.py b/app/x.py
index 1111111..2222222 100644
--- a/app/x.py
+++ b/app/x.py
@@ -1,3 +1,4 @@
 import os
-import sys
+import json
+import re
\x20
diff --git a/app/new.py b/app/new.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/app/new.py
@@ -0,0 +1,2 @@
+x = 1
+y = 2
"""


def many_files_diff(count: int) -> str:
    """A diff touching ``count`` new one-line files."""
    return "".join(
        f"diff --git a/f{i}.py b/f{i}.py\nnew file mode 100644\n--- /dev/null\n+++ b/f{i}.py\n@@ -0,0 +1 @@\n+v = {i}\n"
        for i in range(count)
    )


class FakeClock:
    """Monotonic and wall clocks that only move when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.wall_base = 1_800_000_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.wall_base + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeGitHub:
    gh = FakeGitHub(app_id=7, slug="archbot", clock=clock.monotonic)
    gh.add_installation(42)
    gh.add_repo(REPO, files={".github/archbot.yml": CONFIG})
    gh.add_pr(
        REPO,
        1,
        diff=DIFF,
        head_sha=HEAD,
        base_sha=BASE,
        head_files={"app/x.py": "import os\nimport json\nimport re\n\n", "app/new.py": "x = 1\ny = 2\n"},
    )
    return gh


def make_factory(fake: FakeGitHub, clock: FakeClock, api_url: str = "http://gh.test", **kwargs: Any) -> GitHubFactory:
    return GitHubFactory(
        api_url=api_url,
        app_id=fake.app_id,
        private_key=fake.private_key,
        async_transport=fake.transport(),
        sleep=clock.sleep,
        clock=clock.monotonic,
        wall_clock=clock.wall,
        **kwargs,
    )


@pytest.fixture
def factory(fake: FakeGitHub, clock: FakeClock) -> GitHubFactory:
    return make_factory(fake, clock)


@pytest.fixture
def api(factory: GitHubFactory) -> RepoAPI:
    return factory.repo_api("octo", "app", installation_id=42)


# ---------------------------------------------------------------- auth and identity


async def test_token_exchanged_once_and_cached(fake: FakeGitHub, api: RepoAPI) -> None:
    await api.get_diff(1)
    await api.list_files(1)
    await api.pr_context(1)
    assert fake.token_exchanges == 1
    assert api.requests == 3  # the token exchange is not counted
    assert fake.count() == 3
    assert fake.count(include_token_exchange=True) == 4
    assert {r.auth for r in fake.calls()} == {"installation"}


async def test_identify_app_mode_calls_get_app_once(fake: FakeGitHub, factory: GitHubFactory) -> None:
    first = await factory.identify()
    second = await factory.identify()
    assert first == second
    assert (first.app_id, first.slug, first.bot_login) == (7, "archbot", "archbot[bot]")
    assert fake.count("GET", "^/app$") == 1
    assert fake.calls("GET", "^/app$")[0].auth == "app-jwt"


async def test_token_mode_identity_and_authorship(fake: FakeGitHub, clock: FakeClock) -> None:
    factory = GitHubFactory(
        api_url="http://gh.test", token=ACTIONS_TOKEN, async_transport=fake.transport(), sleep=clock.sleep
    )
    identity = await factory.identify()
    assert (identity.app_id, identity.slug, identity.bot_login) == (None, None, "github-actions[bot]")
    api = factory.repo_api("octo", "app")
    await api.create_comment(1, "summary")
    assert fake.comments(REPO, 1)[0].author.login == "github-actions[bot]"
    assert fake.count("GET", "^/app") == 0
    assert fake.token_exchanges == 0


async def test_installation_client_is_kept_referenced(factory: GitHubFactory, fake: FakeGitHub) -> None:
    assert factory.installation_client(42) is factory.installation_client(42)
    api = factory.repo_api("octo", "app", installation_id=42)
    gc.collect()
    assert await api.get_diff(1) == DIFF


async def test_api_url_with_path_prefix(clock: FakeClock) -> None:
    fake = FakeGitHub(app_id=7, prefix="/api/v3", clock=clock.monotonic)
    fake.add_installation(42)
    fake.add_repo(REPO, files={".github/archbot.yml": CONFIG})
    fake.add_pr(REPO, 1, diff=DIFF, head_sha=HEAD, base_sha=BASE)
    factory = make_factory(fake, clock, api_url="http://ghe.test/api/v3")
    api = factory.repo_api("octo", "app", installation_id=42)
    assert (await factory.identify()).slug == "archbot"
    assert await api.get_diff(1) == DIFF
    ctx = await api.pr_context(1)
    assert ctx.config_text == CONFIG
    paths = [r.full_path for r in fake.calls(include_token_exchange=True)]
    assert paths == [
        "/api/v3/app",
        "/api/v3/app/installations/42/access_tokens",
        "/api/v3/repos/octo/app/pulls/1",
        "/api/graphql",  # GitHub Enterprise's GraphQL endpoint
    ]
    assert all(r.status < 400 for r in fake.calls(include_token_exchange=True))


async def test_respx_exact_urls_and_headers_with_prefix() -> None:
    factory = GitHubFactory(api_url="http://ghe.test/api/v3", app_id=9, private_key=app_private_key())
    with respx.mock(base_url="http://ghe.test/api/v3", assert_all_called=True) as mock:
        token = mock.post("/app/installations/5/access_tokens").respond(
            201, json={"token": "ghs_test", "expires_at": "2099-01-01T00:00:00Z"}
        )
        route = mock.get("/repos/o/r/pulls/3").respond(200, text="diff --git a/x b/x\n")
        api = factory.repo_api("o", "r", installation_id=5)
        assert await api.get_diff(3) == "diff --git a/x b/x\n"
        assert await api.get_diff(3) == "diff --git a/x b/x\n"
    assert token.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == "token ghs_test"
    assert request.headers["accept"] == "application/vnd.github.diff"
    assert request.headers["x-github-api-version"] == "2026-03-10"
    assert token.calls.last.request.headers["authorization"].startswith("Bearer ")


async def test_401_gets_one_fresh_token_and_one_retry(fake: FakeGitHub, api: RepoAPI) -> None:
    await api.get_diff(1)
    fake.revoke_tokens()  # the cached token is now refused
    assert await api.get_diff(1) == DIFF
    assert fake.token_exchanges == 2
    assert [r.status for r in fake.calls("GET")] == [200, 401, 200]
    assert api.requests == 3


async def test_401_twice_raises_unauthorized(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("GET", r"/pulls/1$", status=401, times=2)
    with pytest.raises(Unauthorized):
        await api.get_diff(1)
    assert fake.count("GET") == 2
    assert fake.token_exchanges == 2
    assert clock.sleeps == []


async def test_401_on_a_write_is_retried_once_after_refresh(fake: FakeGitHub, api: RepoAPI) -> None:
    await api.get_diff(1)
    fake.revoke_tokens()
    comment_id = await api.create_comment(1, "hello")
    assert [c.id for c in fake.comments(REPO, 1)] == [comment_id]
    assert [r.status for r in fake.calls("POST")] == [401, 201]


# ---------------------------------------------------------------- the read retry layer


async def test_read_retried_on_502_with_jittered_backoff(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("GET", r"/pulls/1$", status=502, times=2)
    assert await api.get_diff(1) == DIFF
    assert [r.status for r in fake.calls("GET")] == [502, 502, 200]
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0
    assert api.requests == 3


async def test_read_gives_up_after_bounded_server_errors(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("GET", r"/pulls/1/files", status=503, times=10)
    with pytest.raises(ServerError):
        await api.list_files(1)
    assert fake.count("GET") == 4  # 1 + 3 retries
    assert len(clock.sleeps) == 3


async def test_graphql_query_is_a_read_and_is_retried(fake: FakeGitHub, api: RepoAPI) -> None:
    fake.fail_next("POST", "^/graphql$", status=504)
    ctx = await api.pr_context(1)
    assert ctx.head_sha == HEAD
    assert fake.count("POST", "^/graphql$") == 2


async def test_secondary_limit_with_retry_after(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("GET", r"/pulls/1$", status=403, headers={"retry-after": "7"})
    assert await api.get_diff(1) == DIFF
    assert clock.sleeps == [7.0]


async def test_headerless_secondary_limit_waits_60s_then_doubles(
    fake: FakeGitHub, api: RepoAPI, clock: FakeClock
) -> None:
    fake.fail_next("GET", r"/pulls/1$", status=403, times=2)  # GitHub's "secondary rate limit" message
    assert await api.get_diff(1) == DIFF
    assert clock.sleeps == [60.0, 120.0]


async def test_secondary_limit_gives_up_after_bound(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("GET", r"/pulls/1$", status=429, times=10)
    with pytest.raises(RateLimited) as caught:
        await api.get_diff(1)
    assert clock.sleeps == [60.0, 120.0, 240.0]
    assert caught.value.retry_after == 480.0


async def test_primary_limit_waits_until_reset(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    reset = int(clock.wall()) + 30
    fake.fail_next(
        "GET",
        r"/pulls/1$",
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        json={"message": "API rate limit exceeded for installation ID 42."},
    )
    assert await api.get_diff(1) == DIFF
    assert clock.sleeps == [31.0]


async def test_primary_limit_too_far_away_is_not_waited(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    reset = int(clock.wall()) + 3000
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    fake.fail_next("GET", r"/pulls/1$", status=403, headers=headers)
    with pytest.raises(RateLimited) as caught:
        await api.get_diff(1)
    assert clock.sleeps == []
    assert caught.value.retry_after == 3001.0


async def test_plain_403_is_not_retried(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("GET", r"/pulls/1$", status=403, json={"message": "Resource not accessible by integration"})
    with pytest.raises(Exception, match="Resource not accessible") as caught:
        await api.get_diff(1)
    assert type(caught.value).__name__ == "Forbidden"
    assert clock.sleeps == []


# ---------------------------------------------------------------- writes: never retried, paced


async def test_post_502_is_not_retried(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("POST", r"/pulls/1/reviews$", status=502)
    with pytest.raises(ServerError):
        await api.create_review(1, commit_id=HEAD, body="b", comments=[])
    assert fake.count("POST", "/reviews") == 1
    assert clock.sleeps == []
    assert fake.reviews(REPO, 1) == []


async def test_write_rate_limit_raises_and_holds_the_pacer(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    fake.fail_next("POST", r"/issues/1/comments$", status=403, headers={"retry-after": "30"})
    with pytest.raises(RateLimited) as caught:
        await api.create_comment(1, "x")
    assert caught.value.retry_after == 30.0
    assert fake.count("POST") == 1
    await api.create_comment(1, "y")  # waits out the hold before writing
    assert clock.sleeps == [30.0]


async def test_422_outside_the_diff_is_not_retried(fake: FakeGitHub, api: RepoAPI) -> None:
    with pytest.raises(Unprocessable) as caught:
        await api.create_review(
            1, commit_id=HEAD, body="b", comments=[{"path": "app/x.py", "line": 99, "side": "RIGHT", "body": "c"}]
        )
    assert "Pull request review thread line must be part of the diff" in caught.value.errors
    assert fake.count("POST", "/reviews") == 1
    assert fake.reviews(REPO, 1) == []


async def test_review_event_is_always_comment(fake: FakeGitHub, api: RepoAPI) -> None:
    assert "event" not in inspect.signature(RepoAPI.create_review).parameters
    review_id = await api.create_review(
        1,
        commit_id=HEAD,
        body="summary",
        comments=[
            {"path": "app/x.py", "line": 2, "side": "RIGHT", "body": "added line"},
            {"path": "app/x.py", "line": 2, "side": "LEFT", "body": "removed line"},
            {"path": "app/new.py", "start_line": 1, "line": 2, "side": "RIGHT", "body": "range"},
        ],
    )
    (review,) = fake.reviews(REPO, 1)
    assert review.id == review_id
    assert review.event == "COMMENT"
    assert review.state == "COMMENTED"
    assert review.author.login == "archbot[bot]"
    assert len(fake.threads(REPO, 1)) == 3


async def test_annotations_go_in_batches_of_50(fake: FakeGitHub, api: RepoAPI) -> None:
    run_id = await api.create_check_run(name="archbot", head_sha=HEAD, external_id="job-1")
    annotations = [
        {"path": "app/x.py", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": f"m{i}"}
        for i in range(120)
    ]
    await api.update_check_run(
        run_id, status="completed", conclusion="neutral", title="t", summary="s", text="x", annotations=annotations
    )
    (run,) = fake.check_runs(REPO)
    assert [a["message"] for a in run.annotations] == [f"m{i}" for i in range(120)]
    assert fake.count("PATCH", "/check-runs/") == 3
    assert (run.status, run.conclusion, run.external_id, run.title) == ("completed", "neutral", "job-1", "t")
    assert run.requests == 4


async def test_update_check_run_without_annotations_is_one_patch(fake: FakeGitHub, api: RepoAPI) -> None:
    run_id = await api.create_check_run(name="archbot", head_sha=HEAD)
    await api.update_check_run(run_id, conclusion="success", title="ok", summary="nothing found")
    (run,) = fake.check_runs(REPO)
    assert (run.status, run.conclusion, run.summary) == ("completed", "success", "nothing found")
    assert fake.count("PATCH") == 1


async def test_writes_are_paced_one_second_apart(fake: FakeGitHub, api: RepoAPI, clock: FakeClock) -> None:
    await api.get_diff(1)
    await api.pr_context(1)  # reads are not paced
    run_id = await api.create_check_run(name="archbot", head_sha=HEAD)
    comment_id = await api.create_comment(1, "summary")
    await api.update_comment(comment_id, "summary v2")
    await api.add_reaction(comment_id)
    await api.update_check_run(run_id, conclusion="success", title="t", summary="s")
    writes = [r.at for r in fake.calls() if r.method in ("POST", "PATCH") and r.path != "/graphql"]
    assert len(writes) == 5
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(writes))
    reads = [r.at for r in fake.calls() if r.method == "GET" or r.path == "/graphql"]
    assert reads == [1000.0, 1000.0]


async def test_pacer_is_shared_per_installation(factory: GitHubFactory) -> None:
    assert factory.pacer(42) is factory.pacer(42)
    assert factory.pacer(42) is not factory.pacer(43)


async def test_write_pacer_queues_concurrent_writers(clock: FakeClock) -> None:
    pacer = WritePacer(1.0, clock=clock.monotonic, sleep=clock.sleep)
    await pacer.wait()
    await pacer.wait()
    await pacer.wait()
    assert clock.sleeps == [1.0, 1.0]


# ---------------------------------------------------------------- reads


async def test_diff_too_large_gives_none_and_files_still_list(clock: FakeClock) -> None:
    fake = FakeGitHub(max_diff_files=300, clock=clock.monotonic)
    fake.add_installation(42)
    fake.add_repo(REPO)
    fake.add_pr(REPO, 2, diff=many_files_diff(301), head_sha=HEAD, base_sha=BASE)
    api = make_factory(fake, clock).repo_api("octo", "app", installation_id=42)
    assert await api.get_diff(2) is None
    files = await api.list_files(2)
    assert len(files) == 301
    assert files[0]["patch"] == "@@ -0,0 +1 @@\n+v = 0"
    assert fake.count("GET", "/files") == 4  # per_page=100, following Link: rel="next"
    assert api.requests == 5


async def test_issue_comments_paginate(fake: FakeGitHub, api: RepoAPI) -> None:
    for i in range(150):
        fake.add_comment(REPO, 1, f"c{i}")
    fake.add_comment(REPO, 1, "<!-- archbot -->", author="archbot[bot]", author_type="Bot", app={"id": 7})
    comments = await api.issue_comments(1)
    assert [c.body for c in comments[:2]] == ["c0", "c1"]
    assert len(comments) == 151
    assert (comments[-1].author, comments[-1].author_is_bot, comments[-1].app_id) == ("archbot[bot]", True, 7)
    assert fake.count("GET", "/comments") == 2


async def test_compare_diff_and_force_push(fake: FakeGitHub, api: RepoAPI) -> None:
    new_head = "c" * 40
    fake.push(REPO, 1, head_sha=new_head, diff=DIFF)
    fake.set_compare(REPO, HEAD, new_head, "diff --git a/app/x.py b/app/x.py\n")
    assert await api.compare_diff(HEAD, new_head) == "diff --git a/app/x.py b/app/x.py\n"
    newer = "d" * 40
    fake.push(REPO, 1, head_sha=newer, diff=DIFF, force=True)  # new_head is gone
    assert await api.compare_diff(new_head, newer) is None
    assert fake.calls("GET", "/compare/")[-1].status == 404


async def test_pr_context_in_one_graphql_query(fake: FakeGitHub, api: RepoAPI, factory: GitHubFactory) -> None:
    fake.set_file(REPO, HEAD, ".github/archbot.yml", "review: {enabled: false}\n")  # the PR's own copy: ignored
    fake.add_comment(REPO, 1, "first!", author="bob")
    own = factory.repo_api("octo", "app", installation_id=42)
    await own.create_comment(1, "<!-- archbot:summary -->")
    await own.create_review(
        1, commit_id=HEAD, body="<!-- archbot:review -->", comments=[{"path": "app/x.py", "line": 3, "body": "f"}]
    )
    fake.reply_to_thread(REPO, 1, fake.threads(REPO, 1)[0].id, "won't fix", author="bob")
    before = api.requests
    ctx = await api.pr_context(1, paths=["app/x.py", "app/new.py", "missing.py"], head_sha=HEAD)
    assert api.requests - before == 1
    assert (ctx.number, ctx.head_sha, ctx.base_sha, ctx.base_ref, ctx.default_branch) == (1, HEAD, BASE, "main", "main")
    assert (ctx.state, ctx.draft, ctx.is_fork, ctx.head_repo) == ("OPEN", False, False, REPO)
    assert (ctx.author_login, ctx.author_is_bot, ctx.title) == ("alice", False, "A change")
    assert ctx.config_text == CONFIG
    assert ctx.file_texts == {
        "app/x.py": "import os\nimport json\nimport re\n\n",
        "app/new.py": "x = 1\ny = 2\n",
        "missing.py": None,
    }
    assert [(c.author, c.author_is_bot, c.body) for c in ctx.comments] == [
        ("bob", False, "first!"),
        ("archbot[bot]", True, "<!-- archbot:summary -->"),  # GraphQL says "archbot"; normalised
    ]
    assert ctx.comments[1].id == fake.comments(REPO, 1)[1].id > 2**31  # fullDatabaseId, beyond Int32
    (thread,) = ctx.threads
    assert thread.id.startswith("PRRT_")
    assert not thread.is_resolved
    assert [(c.author, c.path, c.line) for c in thread.comments] == [
        ("archbot[bot]", "app/x.py", 3),
        ("bob", "app/x.py", 3),
    ]
    assert [(r.author, r.state, r.commit_id) for r in ctx.reviews] == [("archbot[bot]", "COMMENTED", HEAD)]
    assert fake.calls("POST", "/graphql")[-1].graphql == "query ArchbotPullRequestContext"


async def test_pr_context_reads_check_runs_of_the_head_commit_in_the_same_query(
    fake: FakeGitHub, api: RepoAPI, clock: FakeClock
) -> None:
    running = await api.create_check_run(name="archbot", head_sha=HEAD)
    done = await api.create_check_run(name="archbot", head_sha=HEAD)
    await api.update_check_run(done, conclusion="neutral", title="t", summary="s")
    await api.create_check_run(name="lint", head_sha=HEAD)  # another name
    await api.create_check_run(name="archbot", head_sha=BASE)  # another commit
    actions = GitHubFactory(api_url="http://gh.test", token=ACTIONS_TOKEN, async_transport=fake.transport())
    foreign = await actions.repo_api("octo", "app").create_check_run(name="archbot", head_sha=HEAD)
    before = api.requests
    ctx = await api.pr_context(1, paths=["app/x.py"], head_sha=HEAD, check_name="archbot", check_app_id=7)
    assert api.requests - before == 1
    assert [(r.id, r.name, r.status, r.app_id) for r in ctx.check_runs] == [
        (running, "archbot", "IN_PROGRESS", 7),
        (done, "archbot", "COMPLETED", 7),
    ]
    assert running > 2**31  # CheckRun.databaseId is typed Int, yet GitHub sends the whole id
    assert ctx.file_texts == {"app/x.py": "import os\nimport json\nimport re\n\n"}
    # without head_sha: from the PR's last commit; without an App id: every App's runs of that name
    ctx = await api.pr_context(1, paths=["app/new.py"], check_name="archbot")
    assert {(r.id, r.app_id) for r in ctx.check_runs} == {(running, 7), (done, 7), (foreign, 15368)}
    assert ctx.file_texts == {"app/new.py": "x = 1\ny = 2\n"}
    assert (await api.pr_context(1, head_sha=HEAD)).check_runs == []  # not asked for


def test_check_runs_of_a_last_commit_that_is_not_the_head_are_ignored() -> None:
    run = {"databaseId": 5, "name": "archbot", "status": "QUEUED"}
    commit = {"oid": BASE, "checkSuites": {"nodes": [{"app": {"databaseId": 7}, "checkRuns": {"nodes": [run]}}]}}
    pr = {"number": 1, "headRefOid": HEAD, "headCommit": {"nodes": [{"commit": commit}]}}
    assert convert.pr_context_from_graphql({"repository": {"pullRequest": pr}}, 1, []).check_runs == []
    commit["oid"] = HEAD
    (info,) = convert.pr_context_from_graphql({"repository": {"pullRequest": pr}}, 1, []).check_runs
    assert (info.id, info.name, info.status, info.app_id) == (5, "archbot", "QUEUED", 7)


def older_github(clock: FakeClock, **schema: Any) -> FakeGitHub:
    """The ``fake`` fixture's repository and PR on a GitHub whose schema differs (``schema_without`` ...)."""
    gh = FakeGitHub(app_id=7, slug="archbot", clock=clock.monotonic, **schema)
    gh.add_installation(42)
    gh.add_repo(REPO, files={".github/archbot.yml": CONFIG})
    gh.add_pr(REPO, 1, diff=DIFF, head_sha=HEAD, base_sha=BASE, head_files={"app/x.py": "import os\n"})
    return gh


@pytest.mark.parametrize(
    ("schema", "reason", "message"),
    [
        ({"schema_without": ["Commit.checkSuites"]}, "undefined_field", "Field 'checkSuites' doesn't exist on type"),
        ({"schema_without": ["CheckSuite.checkRuns"]}, "undefined_field", "Field 'checkRuns' doesn't exist on type"),
        ({"schema_forbidden": ["Commit.checkSuites"]}, "forbidden", "Resource not accessible by integration"),
    ],
)
@pytest.mark.parametrize("head_sha", [HEAD, None])
async def test_pr_context_asks_once_more_without_the_check_run_lookup_github_refuses(
    clock: FakeClock, schema: dict[str, Any], reason: str, message: str, head_sha: str | None
) -> None:
    fake = older_github(clock, **schema)
    api = make_factory(fake, clock).repo_api("octo", "app", installation_id=42)
    ctx = await api.pr_context(1, paths=["app/x.py"], head_sha=head_sha, check_name="archbot", check_app_id=7)
    assert api.requests == 2 and fake.count("POST", "/graphql") == 2
    assert [(d.part, d.reason) for d in ctx.degraded] == [("check_runs", reason)]
    assert ctx.degraded[0].message.startswith(message)
    assert ctx.check_runs == []
    assert (ctx.head_sha, ctx.config_text, ctx.file_texts) == (HEAD, CONFIG, {"app/x.py": "import os\n"})
    # not asked for: one query, nothing degraded
    plain = await api.pr_context(1, paths=["app/x.py"], head_sha=head_sha)
    assert api.requests == 3 and plain.degraded == []


async def test_pr_context_other_graphql_errors_are_not_retried(clock: FakeClock) -> None:
    fake = older_github(clock, schema_without=["Commit.checkSuites", "PullRequest.reviews"])
    api = make_factory(fake, clock).repo_api("octo", "app", installation_id=42)
    with pytest.raises(GraphQLQueryError, match="reviews"):
        await api.pr_context(1, head_sha=HEAD, check_name="archbot", check_app_id=7)
    assert api.requests == 1  # dropping the check-run lookup would not help: no second query
    fake = older_github(clock, schema_forbidden=["Repository.defaultBranchRef"])
    api = make_factory(fake, clock).repo_api("octo", "app", installation_id=42)
    with pytest.raises(GraphQLQueryError, match="Resource not accessible"):
        await api.pr_context(1, head_sha=HEAD, check_name="archbot", check_app_id=7)
    assert api.requests == 1


def test_optional_refusal_recognises_githubs_answers_about_the_check_run_lookup() -> None:
    undefined = {
        "path": ["fragment ArchbotCheckRuns", "checkSuites"],
        "extensions": {"code": "undefinedField", "typeName": "Commit", "fieldName": "checkSuites"},
        "locations": [{"line": 40, "column": 3}],
        "message": "Field 'checkSuites' doesn't exist on type 'Commit'",
    }
    forbidden = {
        "type": "FORBIDDEN",
        "path": ["repository", "reviewedCommit", "checkSuites"],
        "extensions": {"saml_failure": False},
        "locations": [{"line": 40, "column": 3}],
        "message": "Resource not accessible by integration",
    }
    argument = {
        "path": ["fragment ArchbotCheckRuns", "checkSuites", "filterBy"],
        "extensions": {
            "code": "argumentNotAccepted",
            "name": "checkSuites",
            "typeName": "Field",
            "argumentName": "filterBy",
        },
        "message": "Field 'checkSuites' doesn't accept argument 'filterBy'",
    }
    elsewhere = {**forbidden, "path": ["repository", "pullRequest", "reviewThreads"]}
    other_field = {
        **undefined,
        "path": ["query Q", "repository", "pullRequest", "reviews"],
        "extensions": {"code": "undefinedField", "typeName": "PullRequest", "fieldName": "reviews"},
    }
    timeout = {"path": ["repository", "reviewedCommit", "checkSuites"], "message": "Something went wrong"}
    assert optional_refusal([undefined]) == "undefined_field"
    assert optional_refusal([forbidden]) == "forbidden"
    assert optional_refusal([argument]) == "argument_not_accepted"
    nested = {**undefined, "path": ["fragment ArchbotCheckRuns", "checkSuites", "nodes"]}
    assert optional_refusal([undefined, nested]) == "undefined_field"
    for errors in ([], [elsewhere], [other_field], [timeout], [forbidden, elsewhere], [undefined, other_field]):
        assert optional_refusal(errors) is None, errors


async def test_pr_context_files_without_head_sha_and_fork_and_draft(clock: FakeClock) -> None:
    fake = FakeGitHub(clock=clock.monotonic)
    fake.add_installation(42)
    fake.add_repo(REPO)  # no config file
    fake.add_pr(
        REPO,
        4,
        diff=DIFF,
        head_sha=HEAD,
        base_sha=BASE,
        fork=True,
        draft=True,
        author="dependabot[bot]",
        author_type="Bot",
        head_files={"app/x.py": "print(1)\n"},
    )
    api = make_factory(fake, clock).repo_api("octo", "app", installation_id=42)
    ctx = await api.pr_context(4, paths=["app/x.py"])
    assert (ctx.is_fork, ctx.draft, ctx.head_repo) == (True, True, "dependabot[bot]/app")
    assert (ctx.author_login, ctx.author_is_bot) == ("dependabot[bot]", True)
    assert ctx.config_text is None
    assert ctx.file_texts == {"app/x.py": "print(1)\n"}


async def test_pr_context_missing_pr_is_not_found(api: RepoAPI) -> None:
    with pytest.raises(NotFound):
        await api.pr_context(99)


async def test_pr_context_rest_fallback(fake: FakeGitHub, factory: GitHubFactory) -> None:
    api = factory.repo_api("octo", "app", installation_id=42, graphql_enabled=False)
    await api.create_review(1, commit_id=HEAD, body="r", comments=[{"path": "app/new.py", "line": 1, "body": "c"}])
    await api.create_check_run(name="archbot", head_sha=HEAD)
    ctx = await api.pr_context(1, paths=["app/new.py"], head_sha=HEAD, check_name="archbot", check_app_id=7)
    assert (ctx.head_sha, ctx.state, ctx.default_branch, ctx.config_text) == (HEAD, "OPEN", "main", CONFIG)
    assert ctx.check_runs == []  # REST would need another request: the fallback does without
    assert ctx.file_texts == {"app/new.py": "x = 1\ny = 2\n"}
    assert [c.author for t in ctx.threads for c in t.comments] == ["archbot[bot]"]
    assert fake.count("POST", "/graphql") == 0


async def test_resolve_thread(fake: FakeGitHub, api: RepoAPI) -> None:
    await api.create_review(1, commit_id=HEAD, body="r", comments=[{"path": "app/new.py", "line": 1, "body": "c"}])
    (thread,) = (await api.pr_context(1)).threads
    await api.resolve_thread(thread.id)
    assert fake.threads(REPO, 1)[0].is_resolved
    assert (await api.pr_context(1)).threads[0].is_resolved


@pytest.mark.parametrize(("role", "expected"), [("maintain", "maintain"), ("triage", "triage"), ("none", "none")])
async def test_permission_uses_role_name(fake: FakeGitHub, api: RepoAPI, role: str, expected: str) -> None:
    fake.set_permission(REPO, "carol", role)
    assert await api.permission("carol") == expected


async def test_permission_is_none_on_error(fake: FakeGitHub, api: RepoAPI) -> None:
    fake.fail_next("GET", "/permission", status=404, json={"message": "Not Found"})
    assert await api.permission("carol") is None


async def test_issue_and_file_text(fake: FakeGitHub, api: RepoAPI) -> None:
    fake.add_issue(REPO, 5, title="Design: queue", body="We need…", labels=["design-doc"], author="erin")
    issue = await api.issue(5)
    assert (issue.title, issue.labels, issue.author, issue.is_pr, issue.state) == (
        "Design: queue",
        ["design-doc"],
        "erin",
        False,
        "open",
    )
    assert (await api.issue(1)).is_pr
    assert await api.file_text(".github/archbot.yml") == CONFIG
    assert await api.file_text("app/new.py", HEAD) == "x = 1\ny = 2\n"
    assert await api.file_text("nope.txt") is None
    assert await api.file_text("app", HEAD) is None  # a directory


async def test_update_comment_of_someone_else_is_forbidden(fake: FakeGitHub, api: RepoAPI) -> None:
    other = fake.add_comment(REPO, 1, "mine", author="bob")
    with pytest.raises(Exception, match="Resource not accessible") as caught:
        await api.update_comment(other, "hijack")
    assert type(caught.value).__name__ == "Forbidden"


@pytest.fixture
def no_network() -> Iterator[None]:
    with respx.mock(assert_all_called=False) as mock:
        mock.route().mock(side_effect=httpx.ConnectError("no network"))
        yield


async def test_connection_errors_on_reads_are_retried_then_reported(no_network: None, clock: FakeClock) -> None:
    factory = GitHubFactory(api_url="http://gh.test", token="t", sleep=clock.sleep)
    api = factory.repo_api("o", "r")
    with pytest.raises(ServerError):
        await api.get_diff(1)
    assert len(clock.sleeps) == 3
    assert api.requests == 4
