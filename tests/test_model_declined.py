"""A model that declines one chunk (``stop_reason: "refusal"``): that chunk's files are named "not
reviewed: the model declined", the error list says so, and the rest of the review still posts.

Driven through the console script (a subprocess against the fake model served on loopback) and through
the PR pipeline end to end (signed webhook -> queue -> worker -> fake GitHub).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.review.diff import parse_diff
from app.review.engine import ReviewRequest, prepare
from app.review.markers import parse_marker
from app.review.model_api import DECLINED_REASON
from tests.e2e import BASE, REPO, SHA1, Harness, make_harness, pr_payload
from tests.fakemodel import REFUSAL, FakeModel, Refusal, serve_model

ROOT = Path(__file__).resolve().parent.parent
REVIEWED = "pkg/reviewed.py"
DECLINED = "pkg/declined.py"
LINES_PER_FILE = 450  # two files of ~8k tokens each: more than one 12k-token chunk holds, so two chunks


def new_file(prefix: str) -> str:
    """A plain new Python module (no static findings): numbered constants with a comment each."""
    line = "{prefix}_{n:04d} = {n}  # a value the reviewer may ask about, number {n}\n"
    return "".join(line.format(prefix=prefix, n=n) for n in range(1, LINES_PER_FILE + 1))


def new_file_diff(path: str, text: str) -> str:
    lines = text.splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    header = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return f"{header}@@ -0,0 +1,{len(lines)} @@\n{body}"


TEXTS = {REVIEWED: new_file("KEPT"), DECLINED: new_file("ASKED")}
DIFF = new_file_diff(REVIEWED, TEXTS[REVIEWED]) + new_file_diff(DECLINED, TEXTS[DECLINED])

FINDING = {
    "path": REVIEWED,
    "line": 3,
    "side": "RIGHT",
    "severity": "medium",
    "category": "maintainability",
    "title": "Magic numbers without a name",
    "rationale": "Group these constants in an enum so callers cannot pass an arbitrary int.",
}


def refuse_the_declined_chunk(body: dict[str, Any]) -> dict[str, Any] | Refusal:
    """The fake model's answer: a refusal for the chunk holding DECLINED, a review for the other."""
    prompt = body["messages"][0]["content"][0]["text"]
    if DECLINED in prompt:
        return REFUSAL
    return {"summary": "Adds a table of constants.", "findings": [FINDING]}


def fake_model() -> FakeModel:
    fake = FakeModel()
    fake.script("submit_review", refuse_the_declined_chunk)
    return fake


def test_the_diff_is_two_chunks_one_file_each() -> None:
    files = parse_diff(DIFF)
    plan = prepare(ReviewRequest(anchor_files=files, review_files=files, contents=TEXTS)).plan
    assert sorted([f.path for f in c.files] for c in plan.chunks) == [[DECLINED], [REVIEWED]]


def archbot(*args: str, base_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    env |= {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": base_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def document(stdout: str) -> str:
    """The JSON document on stdout. Until the CLI's logs move to stderr (issue 14, another change),
    log lines may come before it; this test is about what the document says, not where logs go."""
    return stdout if stdout.startswith("{") else stdout[stdout.index("\n{") + 1 :]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for path, text in TEXTS.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "two.diff").write_text(DIFF)
    return tmp_path


def test_cli_names_the_declined_chunks_files_and_keeps_the_other_chunk(checkout: Path) -> None:
    fake = fake_model()
    with serve_model(fake) as url:
        done = archbot("review", "--diff", "two.diff", "--repo-dir", ".", "--format=json", base_url=url, cwd=checkout)
    assert done.returncode == 1, done.stderr  # a chunk was not reviewed: an error of the run
    result = json.loads(document(done.stdout))
    assert {"path": DECLINED, "reason": DECLINED_REASON} in [
        {"path": n["path"], "reason": n["reason"]} for n in result["not_reviewed"]
    ]
    assert REVIEWED not in {n["path"] for n in result["not_reviewed"]}
    [error] = result["errors"]
    assert error.startswith("chunk ") and "the model declined" in error
    assert "Adds a table of constants." in result["summary"]
    assert any(f["path"] == REVIEWED and f["title"] == FINDING["title"] for f in result["findings"])
    assert len(fake.calls("submit_review")) == 2  # one call per chunk: a refusal is not asked again


def test_cli_markdown_says_the_model_declined(checkout: Path) -> None:
    with serve_model(fake_model()) as url:
        done = archbot("review", "--diff", "two.diff", "--repo-dir", ".", base_url=url, cwd=checkout)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert DECLINED in out and DECLINED_REASON in out
    assert "Magic numbers without a name" in out


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    harness.fake.add_pr(REPO, 7, diff=DIFF, head_sha=SHA1, base_sha=BASE, head_files=TEXTS)
    harness.model.script("submit_review", refuse_the_declined_chunk)
    yield harness
    await harness.close()


async def test_pr_review_posts_the_other_chunk_and_names_the_declined_files(h: Harness) -> None:
    assert (await h.deliver("pull_request", pr_payload("opened"))).status_code == 202
    assert await h.drain() == 1

    [review] = h.reviews()
    assert [(c["path"], c["line"]) for c in review.comments] == [(REVIEWED, 3)]

    [summary] = [c for c in h.comments() if parse_marker(c.body, "summary") is not None]
    assert "Adds a table of constants." in summary.body
    assert DECLINED in summary.body and DECLINED_REASON in summary.body
    assert "declined" in summary.body.split("Errors", 1)[-1]  # the error list says so too
    marker = parse_marker(summary.body, "summary")
    assert marker is not None and marker["done"] is True

    [run] = h.fake.check_runs(REPO)
    assert run.status == "completed" and run.conclusion == "neutral"
    assert (run.title or "").startswith("Partly reviewed: 1 of 2 model calls failed")
    assert "declined 1 file" in (run.title or "")
    assert DECLINED in (run.summary or "") and DECLINED_REASON in (run.summary or "")
    assert len(h.model.calls("submit_review")) == 2
