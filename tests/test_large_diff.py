"""Diffs over the cap through the real entry points: the console script (subprocess) and the worker
(signed webhook -> queue -> worker -> fake GitHub, with the diff endpoint and the files-list fallback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.review.markers import parse_marker
from tests.e2e import BASE, REPO, SHA1, Harness, make_harness, pr_payload
from tests.fakegithub import FakeGitHub

ROOT = Path(__file__).resolve().parent.parent

# Riskiest first (budget.risk_rank): a sensitive Python file, plain Python, other code, tests, docs.
FILES = ["docs/notes.md", "tests/test_ranking.py", "web/app.js", "service/ranking.py", "service/auth.py"]
REVIEWED = {"service/auth.py", "service/ranking.py"}


def _body(path: str, added: int) -> list[str]:
    if path.endswith(".py"):
        return [f"value_{i} = {i}" for i in range(added)]
    return [f"line {i} of {path}" for i in range(added)]


def make_diff(paths: list[str], added: int = 3) -> tuple[str, dict[str, str]]:
    """A git diff that appends ``added`` lines to each file after a first line ``# head``, and the new texts."""
    sections = []
    texts = {}
    for path in paths:
        lines = _body(path, added)
        sections.append(
            f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
            f"@@ -1,1 +1,{added + 1} @@\n # head\n" + "".join(f"+{line}\n" for line in lines)
        )
        texts[path] = "# head\n" + "".join(f"{line}\n" for line in lines)
    return "".join(sections), texts


def archbot(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=clean | env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def not_reviewed_lines(markdown: str) -> dict[str, str]:
    """``- `path` — reason`` lines of the review's "Files not reviewed" list."""
    out = {}
    section = markdown.split("## Files not reviewed", 1)[1].split("\n\n", 2)[1]
    for line in section.splitlines():
        if line.startswith("- `") and "` — " in line:
            path, _, reason = line[3:].partition("` — ")
            out[path] = reason
    return out


# ------------------------------------------------------------------------------------------------- CLI


def test_cli_over_the_file_cap_reviews_the_riskiest_files_and_names_the_rest(tmp_path: Path) -> None:
    diff, _ = make_diff(FILES)
    path = tmp_path / "pr.diff"
    path.write_text(diff)
    done = archbot("review", "--diff", str(path), "--dry-run", env={"ARCHBOT_MAX_DIFF_FILES": "2"})
    assert done.returncode == 0, done.stderr
    sent = {line.split("`")[1] for line in done.stdout.splitlines() if line.startswith("  - `")}
    assert sent == REVIEWED
    named = not_reviewed_lines(done.stdout)
    assert set(named) == set(FILES) - REVIEWED
    assert all("over the diff cap: at most 2 files" in r and "ARCHBOT_MAX_DIFF_FILES" in r for r in named.values())
    assert "over archbot's cap of 2 files" in done.stderr and "ARCHBOT_MAX_DIFF_FILES" in done.stderr


def test_cli_over_the_line_cap_from_stdin_in_json(tmp_path: Path) -> None:
    diff, texts = make_diff(FILES)
    for name, text in texts.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    # every file is 9 diff lines: 20 lines hold two files
    done = archbot(
        "review", "--diff", "-", "--repo-dir", str(tmp_path), "--format", "json",
        env={"ARCHBOT_MAX_DIFF_LINES": "20"}, stdin=diff,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    named = {n["path"]: n["reason"] for n in result["not_reviewed"]}
    assert set(named) == set(FILES) - REVIEWED
    assert all("20 diff lines" in r and "ARCHBOT_MAX_DIFF_LINES" in r for r in named.values())


def test_cli_refuses_a_diff_over_the_byte_cap(tmp_path: Path) -> None:
    diff, _ = make_diff(FILES)
    path = tmp_path / "pr.diff"
    path.write_text(diff)
    done = archbot("review", "--diff", str(path), "--dry-run", env={"ARCHBOT_MAX_DIFF_BYTES": "100"})
    assert done.returncode == 2 and done.stdout == ""
    assert "more than archbot reads" in done.stderr and "ARCHBOT_MAX_DIFF_BYTES" in done.stderr
    piped = archbot("review", "--diff", "-", "--dry-run", env={"ARCHBOT_MAX_DIFF_BYTES": "100"}, stdin=diff)
    assert piped.returncode == 2 and "the diff on stdin" in piped.stderr


# ---------------------------------------------------------------------------------------------- worker


def sent_paths(harness: Harness) -> set[str]:
    prompts = json.dumps([call["messages"] for call in harness.model.calls("submit_review")])
    return {path for path in FILES if f"### File: {path}" in prompts}


async def review_capped_pr(harness: Harness) -> tuple[Any, Any]:
    diff, texts = make_diff(FILES)
    harness.fake.add_pr(REPO, 7, diff=diff, head_sha=SHA1, base_sha=BASE, head_files=texts)
    harness.model.script("submit_review", {"summary": "ok", "findings": []})
    await harness.deliver("pull_request", pr_payload("opened"))
    await harness.drain()
    [summary] = [c for c in harness.comments() if parse_marker(c.body, "summary") is not None]
    [run] = harness.fake.check_runs(REPO)
    return summary, run


@pytest.mark.parametrize("fallback", [False, True], ids=["diff endpoint", "files list after 406"])
async def test_worker_over_the_cap_reviews_the_riskiest_files_and_says_so(tmp_path: Path, fallback: bool) -> None:
    fake = FakeGitHub(max_diff_files=1) if fallback else FakeGitHub()
    harness = await make_harness(tmp_path, fake=fake, archbot_max_diff_files=2)
    try:
        summary, run = await review_capped_pr(harness)
        assert (harness.fake.count("GET", r"/pulls/7/files") >= 1) is fallback
        assert sent_paths(harness) == REVIEWED
        body = summary.body
        assert body.startswith("> [!NOTE]\n> This diff has 5 files")
        assert "over archbot's cap of 2 files" in body and "ARCHBOT_MAX_DIFF_FILES" in body
        for path in set(FILES) - REVIEWED:
            line = next(ln for ln in body.splitlines() if ln.startswith(f"- `{path}`"))
            assert "over the diff cap: at most 2 files" in line
        assert "over archbot's cap of 2 files" in (run.summary or "")
        assert "3 files not reviewed" in (run.title or "")
    finally:
        await harness.close()


async def test_worker_under_the_cap_adds_no_note(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path)
    try:
        summary, run = await review_capped_pr(harness)
        assert sent_paths(harness) == set(FILES)
        assert "[!NOTE]" not in summary.body and "diff cap" not in (run.summary or "")
    finally:
        await harness.close()
