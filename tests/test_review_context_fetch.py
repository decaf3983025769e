"""App mode's review context: the imported modules fetched in ONE extra GraphQL query.

Through the real entry point (signed webhook -> queue -> worker -> fake GitHub), with spies on the
engine's ``review`` (what the ReviewRequest carried) and on the runner (the PostReport).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.github.api import RepoAPI
from app.github.client import GitHubFactory
from app.github.errors import GitHubError
from app.pipeline import pr_review, runner
from app.pipeline.pr_review import PostReport
from app.review.engine import ReviewRequest
from tests.e2e import BASE, REPO, SHA1, Harness, make_harness, pr_payload
from tests.fakegithub import FakeGitHub

HANDLER = '''"""Upload handler."""
from svc.settings import Settings
from svc import storage
from . import helpers
from ..escape import nothing
import os


async def handle(x: int) -> int:
    return x
'''
SETTINGS = 'TIMEOUT = 5\nAPI_KEY = "sk-ant-api03-' + "A" * 40 + '"\n'
STORAGE = "def put(blob: bytes) -> None:\n    pass\n"
HELPERS = "def helper() -> int:\n    return 1\n"


def new_file_diff(path: str, text: str) -> str:
    lines = text.splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    header = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return f"{header}@@ -0,0 +1,{len(lines)} @@\n{body}"


class Spy:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[ReviewRequest] = []
        self.reports: list[PostReport] = []
        real_review = pr_review.review
        real_run = runner.review_pull_request

        async def review(request: ReviewRequest, **kwargs: Any) -> Any:
            self.requests.append(request)
            return await real_review(request, **kwargs)

        async def run(deps: Any, job: Any) -> PostReport:
            report = await real_run(deps, job)
            self.reports.append(report)
            return report

        monkeypatch.setattr(pr_review, "review", review)
        monkeypatch.setattr(runner, "review_pull_request", run)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(monkeypatch)


async def harness(tmp_path: Path, *, fake: FakeGitHub | None = None, **settings: Any) -> Harness:
    h = await make_harness(tmp_path, fake=fake, **settings)
    files = {
        "svc/upload.py": HANDLER,
        "svc/settings.py": SETTINGS,
        "svc/storage.py": STORAGE,
        "svc/helpers.py": HELPERS,
        "escape.py": "SECRET = 1\n",
    }
    h.fake.add_pr(REPO, 7, diff=new_file_diff("svc/upload.py", HANDLER), head_sha=SHA1, base_sha=BASE, head_files=files)
    return h


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness_ = await harness(tmp_path)
    yield harness_
    await harness_.close()


def context_calls(fake: FakeGitHub) -> list[Any]:
    return [r for r in fake.requests if r.graphql == "query ArchbotReviewContext"]


async def review_once(h: Harness) -> None:
    response = await h.deliver("pull_request", pr_payload("opened"))
    assert response.status_code == 202
    await h.drain()


async def test_one_extra_graphql_call_names_the_imported_modules_and_feeds_the_review(h: Harness, spy: Spy) -> None:
    await review_once(h)
    calls = context_calls(h.fake)
    assert len(calls) == 1
    asked = {v.partition(":")[2] for k, v in calls[0].graphql_variables.items() if k.startswith("e")}
    assert {"svc/settings.py", "svc/storage.py", "svc/helpers.py"} <= asked
    assert all(v.startswith(SHA1 + ":") for k, v in calls[0].graphql_variables.items() if k.startswith("e"))
    assert "svc/settings.py" not in calls[0].graphql_document  # paths travel as variables only
    (report,) = spy.reports
    assert report.context_paths == ["svc/helpers.py", "svc/settings.py", "svc/storage.py"]
    (request,) = spy.requests
    assert request.repo_files.read("svc/storage.py") == STORAGE
    assert request.repo_files.read("svc/upload.py") == HANDLER  # the changed file's own text too
    assert request.repo_files.read("escape.py") is None  # ``from ..escape`` climbs above the root
    assert request.repo_files.read("../svc/storage.py") is None
    assert len(h.fake.reviews(REPO, 7)) + len(h.comments()) >= 1  # the review was posted


async def test_hostile_paths_are_never_requested(tmp_path: Path) -> None:
    fake = FakeGitHub()
    fake.add_installation(42)
    fake.add_repo("octo/app")
    fake.add_pr("octo/app", 1, diff="", head_sha=SHA1, base_sha=BASE, head_files={"a.py": "x = 1\n"})
    factory = GitHubFactory(
        api_url="http://gh.test", app_id=fake.app_id, private_key=fake.private_key, async_transport=fake.transport()
    )
    api: RepoAPI = factory.repo_api("octo", "app", installation_id=42)
    hostile = ["../etc/passwd", "/etc/passwd", "a\\b.py", "a/\x00.py", "a//b.py", "./a.py"]
    assert await api.context_blobs(SHA1, hostile, max_files=5, max_bytes=1000) == {}
    assert fake.count() == 0  # nothing left to ask: no request at all
    texts = await api.context_blobs(SHA1, [*hostile, "a.py", "missing.py"], max_files=5, max_bytes=1000)
    assert texts == {"a.py": "x = 1\n"}
    (call,) = fake.calls("POST", "^/graphql$")
    assert sorted(call.graphql_variables) == ["e0", "e1", "name", "owner"]
    assert [call.graphql_variables[k] for k in ("e0", "e1")] == [f"{SHA1}:a.py", f"{SHA1}:missing.py"]


async def test_caps_on_files_and_bytes_binary_and_truncated_skipped(tmp_path: Path) -> None:
    fake = FakeGitHub(blob_truncate_bytes=500)
    fake.add_installation(42)
    fake.add_repo("octo/app")
    files = {f"m{i}.py": f"v = {i}\n" for i in range(6)}
    files |= {"big.py": "x" * 300 + "\n", "huge.py": "y" * 600, "bin.py": "a\0b"}
    fake.add_pr("octo/app", 1, diff="", head_sha=SHA1, base_sha=BASE, head_files=files)
    factory = GitHubFactory(
        api_url="http://gh.test", app_id=fake.app_id, private_key=fake.private_key, async_transport=fake.transport()
    )
    api = factory.repo_api("octo", "app", installation_id=42)
    order = ["huge.py", "bin.py", "big.py", "m0.py", "m1.py", "m2.py", "m3.py"]
    assert list(await api.context_blobs(SHA1, order, max_files=3, max_bytes=10_000)) == ["big.py", "m0.py", "m1.py"]
    # 305 bytes would pass a 20-byte cap: it is skipped and the small files after it still fit
    assert list(await api.context_blobs(SHA1, order, max_files=10, max_bytes=20)) == ["m0.py", "m1.py", "m2.py"]
    assert fake.count("POST", "^/graphql$") == 2
    api.graphql_enabled = False
    with pytest.raises(GitHubError):
        await api.context_blobs(SHA1, order, max_files=3, max_bytes=10_000)


async def test_settings_caps_reach_the_pipeline(tmp_path: Path, spy: Spy) -> None:
    h = await harness(tmp_path, archbot_context_max_files=1)
    try:
        await review_once(h)
        (report,) = spy.reports
        assert report.context_paths == ["svc/settings.py"]  # configuration modules first
    finally:
        await h.close()


async def test_graphql_errors_leave_the_review_without_context_but_posted(
    h: Harness, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = RepoAPI.context_blobs

    async def failing(self: RepoAPI, *args: Any, **kwargs: Any) -> dict[str, str]:
        h.fake.fail_next("POST", "^/graphql$", status=502, times=10)  # every retry of this read fails
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(RepoAPI, "context_blobs", failing)
    await review_once(h)
    (report,) = spy.reports
    assert report.context_paths == []
    assert report.skipped is None and report.summary_comment_id is not None
    (request,) = spy.requests
    assert request.repo_files.read("svc/upload.py") == HANDLER
    assert request.repo_files.read("svc/storage.py") is None


async def test_schema_errors_from_github_leave_the_review_posted(tmp_path: Path, spy: Spy) -> None:
    fake = FakeGitHub(schema_without=["Blob.byteSize"])
    h = await harness(tmp_path, fake=fake)
    try:
        await review_once(h)
        (report,) = spy.reports
        assert report.context_paths == [] and report.summary_comment_id is not None
        assert len(context_calls(fake)) == 1
    finally:
        await h.close()


async def test_no_imports_of_the_repository_means_no_extra_call(tmp_path: Path, spy: Spy) -> None:
    h = await make_harness(tmp_path)
    try:
        text = "import os\n\nx = os.getcwd()\n"
        h.fake.add_pr(
            REPO, 7, diff=new_file_diff("a.py", text), head_sha=SHA1, base_sha=BASE, head_files={"a.py": text}
        )
        await review_once(h)
        assert context_calls(h.fake) == []
        assert spy.reports[0].context_paths == []
    finally:
        await h.close()


async def test_given_repo_files_skip_the_fetch(tmp_path: Path, spy: Spy) -> None:
    from app.review.repo_files import MappedRepoFiles

    h = await harness(tmp_path)
    try:
        h.deps.repo_files = MappedRepoFiles({"svc/settings.py": "LOCAL = 1\n"})
        await review_once(h)
        assert context_calls(h.fake) == []
        assert spy.requests[0].repo_files.read("svc/settings.py") == "LOCAL = 1\n"
    finally:
        await h.close()
