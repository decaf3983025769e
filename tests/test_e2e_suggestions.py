"""Committable suggestions end to end: signed webhook -> review -> what the fake GitHub received (issue 19)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.review.suggestions import apply_replacement
from tests.e2e import BASE, PRS, REPO, SHA1, Harness, make_harness, pr_payload

DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
FILE_V1 = (PRS / "inference_v1.py").read_text()
SCRIPT: dict[str, Any] = json.loads((PRS / "suggestion-findings.json").read_text())
SUGGESTION = re.compile(r"^(`{3,})suggestion\n(.*?)\n\1$", re.DOTALL | re.MULTILINE)


async def reviewed(tmp_path: Path, config: str | None = None) -> Harness:
    h = await make_harness(tmp_path, config=config)
    h.fake.add_pr(REPO, 7, diff=DIFF_V1, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE_V1})
    h.model.script("submit_review", SCRIPT)
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    return h


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await reviewed(tmp_path)
    yield harness
    await harness.close()


def comment_on(h: Harness, line: int, side: str = "RIGHT") -> dict[str, Any]:
    [review] = h.reviews()
    return next(c for c in review.comments if c["line"] == line and c["side"] == side)


def blocks(body: str) -> list[str]:
    return [m.group(2) for m in SUGGESTION.finditer(body)]


async def test_only_the_verified_suggestions_are_committable(h: Harness) -> None:
    [review] = h.reviews()
    committable = {c["line"]: blocks(c["body"]) for c in review.comments if blocks(c["body"])}
    # the model's correct one, and archbot's own fixes for the missing timeout and time.sleep
    assert sorted(committable) == [42, 43, 46]
    assert all(len(found) == 1 for found in committable.values())  # one committable block per comment
    expected = FILE_V1.replace('{"items": _cache[req.user_id]}', '{"items": list(_cache[req.user_id])}')
    assert apply_replacement(FILE_V1, 46, 46, committable[46][0]) == expected
    assert committable[43] == ["    await asyncio.sleep(0.05)"]
    assert "Deterministic fix for ARCH109" in comment_on(h, 43)["body"]
    assert "timeout=10" in committable[42][0] and "Deterministic fix for ARCH105" in comment_on(h, 42)["body"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (44, "breaks parsing"),
        (45, "no-op"),
        (27, "conflicts with another suggestion"),
        (39, "changes the indentation"),
        (-16, "left side"),
    ],
)
async def test_the_others_are_plain_diffs_with_their_reason(h: Harness, line: int, reason: str) -> None:
    body = comment_on(h, abs(line), "LEFT" if line < 0 else "RIGHT")["body"]
    assert blocks(body) == []
    assert f"Suggested change (not committable: {reason}):\n\n```diff\n" in body


async def test_off_hunk_and_two_hunk_suggestions_are_listed_in_the_summary_not_committable(h: Harness) -> None:
    [review] = h.reviews()
    assert 20 not in {c["line"] for c in review.comments}
    spanning = comment_on(h, 22)
    assert "start_line" not in spanning and "(not committable: range outside one hunk)" in spanning["body"]
    summary = next(c for c in h.comments() if "archbot review" in c.body)
    assert "Outside the hunk" in summary.body and "(not committable: not on a diff line)" in summary.body


async def test_every_verdict_is_counted_in_the_metrics(h: Harness) -> None:
    metrics = h.deps.metrics.suggestions

    def count(check: str, origin: str = "model") -> float:
        return metrics.labels(check=check, origin=origin)._value.get()

    assert count("committable") == 1 and count("committable", "deterministic") == 2
    assert count("conflicts with another suggestion") == 2
    for reason in ("breaks parsing", "no-op", "left side", "not on a diff line", "range outside one hunk"):
        assert count(reason) == 1, reason


async def test_each_inline_comment_ends_with_a_collapsed_agent_prompt(h: Harness) -> None:
    body = comment_on(h, 46)["body"]
    prompt = body.split("<summary>Prompt for an AI coding agent</summary>", 1)[1]
    assert body.index("<details>") > body.index("```suggestion")
    assert "In service/inference.py:46, fix this medium maintainability issue: Return a copy" in prompt
    assert 'Suggested replacement (verified) for those lines:\n    return {"items": list(' in prompt


async def test_agent_prompts_can_be_turned_off(tmp_path: Path) -> None:
    h = await reviewed(tmp_path, config="review:\n  agent_prompts: false\n")
    try:
        [review] = h.reviews()
        assert review.comments and all("Prompt for an AI coding agent" not in c["body"] for c in review.comments)
    finally:
        await h.close()


DOCKERFILE_V1 = 'FROM python:3.12-slim\nRUN pip install archbot\nUSER root\nCMD ["archbot", "serve"]\n'
DOCKERFILE_DIFF = (
    "diff --git a/Dockerfile b/Dockerfile\n"
    "new file mode 100644\n"
    "--- /dev/null\n"
    "+++ b/Dockerfile\n"
    "@@ -0,0 +1,4 @@\n" + "".join(f"+{line}\n" for line in DOCKERFILE_V1.splitlines())
)


async def test_a_suggestion_on_another_text_file_is_verified_against_its_text(tmp_path: Path) -> None:
    # A Dockerfile is neither Python nor YAML/TOML/JSON: its text comes in the same PR-context read,
    # so the suggestion is checked (one hunk, not a no-op, no neighbour repeated) and committable.
    h = await make_harness(tmp_path)
    try:
        h.fake.add_pr(
            REPO, 7, diff=DOCKERFILE_DIFF, head_sha=SHA1, base_sha=BASE, head_files={"Dockerfile": DOCKERFILE_V1}
        )
        finding = {
            "path": "Dockerfile",
            "line": 3,
            "side": "RIGHT",
            "severity": "medium",
            "category": "security",
            "title": "The service runs as root",
            "rationale": "A compromise of the process gets root in the container.",
            "suggestion": "USER 10001",
        }
        h.model.script("submit_review", {"summary": "Runs as root.", "findings": [finding]})
        await h.deliver("pull_request", pr_payload("opened"))
        await h.drain()
        [review] = h.reviews()
        [comment] = [c for c in review.comments if c["path"] == "Dockerfile"]
        [block] = blocks(comment["body"])
        assert apply_replacement(DOCKERFILE_V1, 3, 3, block) == DOCKERFILE_V1.replace("USER root", "USER 10001")
    finally:
        await h.close()
