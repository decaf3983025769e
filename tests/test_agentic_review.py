"""review.agentic through the real entry points: the ``archbot`` console script (working tree) and a
signed webhook against the fake GitHub (the blobs fetched as review context), with the fake model
calling the read tools: normal reads, hostile paths, a symlink out of the checkout, secrets in files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.review.read_tools import FIND_SYMBOL, READ_FILE
from app.worktree_files import WorkingTreeFiles
from tests.e2e import BASE, REPO, SHA1, make_harness, pr_payload
from tests.fakemodel import FakeModel, ToolCall, serve_model

KEY = "sk-ant-api03-" + "Z" * 60
OUTSIDE_SECRET = "OUTSIDE-THE-CHECKOUT-4711"
APP = (
    '"""Uploads."""\n'
    "from svc.settings import TIMEOUT\n"
    "\n"
    "\n"
    "async def upload(client, blob: bytes) -> None:\n"
    "    await client.put(blob, timeout=TIMEOUT)\n"
)
SETTINGS = f'TIMEOUT = None  # no timeout at all\nAPI_KEY = "{KEY}"\n'
FINDING = {
    "path": "svc/app.py",
    "line": 6,
    "side": "RIGHT",
    "severity": "medium",
    "category": "reliability",
    "title": "Upload without a timeout",
    "rationale": "svc/settings.py sets TIMEOUT to None, so this call can hang forever.",
}
ARCHBOT = Path(sys.executable).parent / "archbot"


def new_file_diff(path: str, text: str) -> str:
    lines = text.splitlines()
    header = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return header + f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines)


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for message in body["messages"]
        if message["role"] == "user" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


def script_reads(fake: FakeModel, *paths: str) -> None:
    fake.script(
        "submit_review",
        *(ToolCall(READ_FILE, {"path": p}) for p in paths),
        ToolCall(FIND_SYMBOL, {"name": "TIMEOUT"}),
        {"summary": "Checked the settings.", "findings": [FINDING]},
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    outside = tmp_path / "outside.py"
    outside.write_text(f"SECRET = '{OUTSIDE_SECRET}'\n")
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    (root / ".github").mkdir()
    (root / ".github" / "archbot.yml").write_text("review:\n  agentic: true\n  agentic_max_calls: 5\n")
    (root / "svc" / "app.py").write_text(APP)
    (root / "svc" / "settings.py").write_text(SETTINGS)
    (root / "svc" / "link.py").symlink_to(outside)
    (root / "change.diff").write_text(new_file_diff("svc/app.py", APP))
    return root


def test_working_tree_source_refuses_symlinks_out_and_unsafe_paths(checkout: Path) -> None:
    files = WorkingTreeFiles(checkout)
    assert files.read("svc/settings.py") == SETTINGS
    assert files.read("svc/link.py") is None
    assert files.read("../outside.py") is None
    assert files.read(str(checkout / "svc" / "settings.py")) is None
    assert "svc/link.py" not in files.paths() and "svc/settings.py" in files.paths()
    assert not any(p.startswith(".github") for p in files.paths())


def test_console_script_review_with_reads(checkout: Path) -> None:
    fake = FakeModel()
    script_reads(fake, "svc/settings.py", "svc/link.py", "../outside.py", "/etc/passwd")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    with serve_model(fake) as url:
        env.update(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="test-key")
        done = subprocess.run(
            [str(ARCHBOT), "review", "--diff", "change.diff", "--repo-dir", ".", "--format", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=checkout,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert len(fake.requests) == 6  # four reads, one search, the answer
    results = tool_results(fake.requests[-1])
    assert [r["is_error"] for r in results] == [False, True, True, True, False]
    assert "TIMEOUT = None" in results[0]["content"] and "[REDACTED:" in results[0]["content"]
    assert "svc/settings.py:1: TIMEOUT = None" in results[4]["content"]
    sent = json.dumps(fake.requests)
    assert KEY not in sent and OUTSIDE_SECRET not in sent
    report = json.loads(done.stdout)
    assert "Upload without a timeout" in json.dumps(report)


async def test_signed_webhook_review_reads_the_fetched_context(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, config="review:\n  agentic: true\n")
    try:
        files = {"svc/app.py": APP, "svc/settings.py": SETTINGS, "svc/other.py": "X = 1\n"}
        h.fake.add_pr(REPO, 7, diff=new_file_diff("svc/app.py", APP), head_sha=SHA1, base_sha=BASE, head_files=files)
        script_reads(h.model, "svc/settings.py", "svc/other.py", "../../etc/passwd")
        response = await h.deliver("pull_request", pr_payload("opened"))
        assert response.status_code == 202
        await h.drain()
        contexts = [r for r in h.fake.requests if r.graphql == "query ArchbotReviewContext"]
        assert len(contexts) == 1
        results = tool_results(h.model.requests[-1])
        # settings.py was fetched (the changed file imports it); other.py was not; the path is refused
        assert [r["is_error"] for r in results] == [False, True, True, False]
        assert "TIMEOUT = None" in results[0]["content"]
        assert KEY not in json.dumps(h.model.requests)
        (review,) = h.fake.reviews(REPO, 7)
        assert review.event == "COMMENT"
        assert any("Upload without a timeout" in c["body"] for c in review.comments)
    finally:
        await h.close()
