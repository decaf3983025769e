"""Design-doc reviews and comment commands end to end: signed issues / issue_comment webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.review.markers import parse_marker
from tests.e2e import BASE, INSTALLATION, REPO, SHA1, Harness, make_harness
from tests.fakemodel import DESIGN_REVIEW, FACTS_MISSING, FACTS_STATED, PLAN
from tests.webhook_helpers import load_payload

VAGUE = "We need to add a feature that processes user uploads with an ML model."


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    harness.fake.add_issue(REPO, 12, title="Upload processing", body=VAGUE, labels=["design-doc"])
    harness.fake.set_permission(REPO, "alice", "write")
    harness.model.script("submit_design_review", DESIGN_REVIEW)
    yield harness
    await harness.close()


def issue_payload(action: str, *, number: int = 12, labels: tuple[str, ...] = ("design-doc",)) -> dict[str, Any]:
    payload = load_payload("issues", "labeled.payload.json")
    payload["action"] = action
    payload["installation"] = {"id": INSTALLATION}
    payload["repository"]["full_name"] = REPO
    payload["issue"]["number"] = number
    payload["issue"]["labels"] = [{"name": name} for name in labels]
    payload["issue"].pop("pull_request", None)
    payload["issue"]["state"] = "open"
    payload["sender"]["type"] = "User"
    return payload


def comment_payload(
    body: str,
    *,
    number: int = 12,
    login: str = "alice",
    user_type: str = "User",
    is_pr: bool = False,
    comment_id: int = 5001,
    action: str = "created",
) -> dict[str, Any]:
    payload = load_payload("issue_comment", "created.with-installation.payload.json")
    payload["action"] = action
    payload["installation"] = {"id": INSTALLATION}
    payload["repository"]["full_name"] = REPO
    issue = payload["issue"]
    issue["number"] = number
    issue["state"] = "open"
    if is_pr:
        issue["pull_request"] = {"url": "https://api.github.com/repos/octo/service/pulls/7"}
    else:
        issue.pop("pull_request", None)
    comment = payload["comment"]
    comment["id"] = comment_id
    comment["body"] = body
    comment["user"]["login"] = login
    comment["user"]["type"] = user_type
    comment["performed_via_github_app"] = None
    return payload


async def command(h: Harness, body: str, **kwargs: Any) -> None:
    kwargs.pop("comment_id", None)  # the fake's own id for the comment is used
    fake_id = h.fake.add_comment(
        REPO,
        kwargs.get("number", 12),
        body,
        author=kwargs.get("login", "alice"),
        author_type=kwargs.get("user_type", "User"),
    )
    await h.deliver("issue_comment", comment_payload(body, comment_id=fake_id, **kwargs))
    await h.drain()


def sticky(h: Harness, kind: str, number: int = 12) -> list[Any]:
    return [
        c for c in h.comments(number) if parse_marker(c.body, kind) is not None and c.author.login == "archbot[bot]"
    ]


async def test_labelled_design_issue_gets_one_sticky_review_updated_on_edit(h: Harness) -> None:
    await h.deliver("issues", issue_payload("labeled"))
    await h.drain()
    [review] = sticky(h, "design")
    for section in ("Clarifying questions", "Risks", "Trade-offs", "non-functional", "Checklist"):
        assert section.lower() in review.body.lower(), section
    assert "- [ ]" in review.body
    h.model.script("submit_design_review", {**DESIGN_REVIEW, "summary": "Now with a retry policy."})
    await h.deliver("issues", issue_payload("edited"))
    await h.drain()
    [updated] = sticky(h, "design")
    assert updated.id == review.id and "Now with a retry policy." in updated.body
    prompt = str(h.model.calls("submit_design_review")[0]["messages"])
    assert "untrusted-data" in prompt and VAGUE in prompt


async def test_issue_with_an_unrelated_label_gets_nothing(h: Harness) -> None:
    h.fake.add_issue(REPO, 13, title="Bug", body="crash", labels=["bug"])
    await h.deliver("issues", issue_payload("labeled", number=13, labels=("bug",)))
    await h.drain()
    assert sticky(h, "design", 13) == [] and h.model.requests == []


async def test_plan_on_a_vague_issue_asks_then_plans_once_answered(h: Harness) -> None:
    h.model.script("submit_clarification", FACTS_MISSING, FACTS_STATED)
    h.model.script("submit_plan", PLAN)
    await command(h, "/plan")
    [plan] = sticky(h, "plan")
    assert "What volume do you expect" in plan.body and "/plan --now" in plan.body
    assert parse_marker(plan.body, "plan") == {"state": "questions"}
    assert h.model.calls("submit_plan") == []
    assert "eyes" in str(h.fake.comments(REPO, 12)[0].reactions)

    h.fake.add_comment(REPO, 12, "About 50 uploads/s, p99 2 s, PII, we run Kafka on k8s, GPU, queued is fine.")
    await command(h, "/plan", comment_id=5002)
    [updated] = sticky(h, "plan")
    assert updated.id == plan.id  # the same sticky comment, edited
    assert parse_marker(updated.body, "plan") == {"state": "plan"}
    for section in ("- [ ] **1.", "```", "Trade-offs", "Security", "Concurrency", "Observability", "Rollout", "Tests"):
        assert section in updated.body, section
    second_clarify = str(h.model.calls("submit_clarification")[-1]["messages"])
    assert "50 uploads/s" in second_clarify  # the thread's answers reached the model


async def test_plan_now_skips_the_questions(h: Harness) -> None:
    h.model.script("submit_plan", PLAN)
    await command(h, "/plan --now")
    assert h.model.calls("submit_clarification") == []
    [plan] = sticky(h, "plan")
    assert "client -> api -> kafka" in plan.body


async def test_review_on_an_issue_runs_the_design_review(h: Harness) -> None:
    await command(h, "/review")
    assert len(sticky(h, "design")) == 1


async def test_review_on_a_pr_reruns_the_full_review(h: Harness) -> None:
    diff = (Path(__file__).parent / "fixtures" / "prs" / "ranking-v1.patch").read_text()
    text = (Path(__file__).parent / "fixtures" / "prs" / "inference_v1.py").read_text()
    h.fake.add_pr(REPO, 7, diff=diff, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": text})
    await command(h, "/review", number=7, is_pr=True)
    assert [r.event for r in h.reviews(7)] == ["COMMENT"]
    assert [c.conclusion for c in h.fake.check_runs(REPO)] == ["neutral"]


async def test_help_and_unknown_commands_answer_with_help(h: Harness) -> None:
    await command(h, "/help")
    await command(h, "/frobnicate now", comment_id=5003)
    bodies = [c.body for c in h.comments(12) if c.author.login == "archbot[bot]"]
    assert len(bodies) == 2
    assert all("/plan --now" in b and "review.severity_threshold" in b for b in bodies)
    assert "`/frobnicate` is not a command I know" in bodies[1]
    assert h.model.requests == []


@pytest.mark.parametrize("role", ["read", "triage", "none"])
async def test_commands_need_write_permission(h: Harness, role: str) -> None:
    h.fake.set_permission(REPO, "mallory", role)
    await command(h, "/plan --now", login="mallory")
    await command(h, "/plan --now", login="mallory", comment_id=5004)
    replies = [c for c in h.comments(12) if c.author.login == "archbot[bot]"]
    assert len(replies) == 1 and "permission" in replies[0].body  # at most one reply per user per issue per day
    assert h.model.requests == []


async def test_permission_lookup_failure_denies(h: Harness) -> None:
    h.fake.fail_next("GET", r"/collaborators/alice/permission$", status=404, times=5)
    await command(h, "/plan --now")
    assert h.model.requests == [] and sticky(h, "plan") == []


async def test_bots_archbot_itself_and_edits_never_trigger(h: Harness) -> None:
    await h.deliver("issue_comment", comment_payload("/plan --now", login="dependabot[bot]", user_type="Bot"))
    await h.deliver("issue_comment", comment_payload("/plan --now", login="archbot[bot]", user_type="Bot"))
    await h.deliver("issue_comment", comment_payload("/plan --now", action="edited"))
    assert await h.drain() == 0
    assert h.model.requests == []


async def test_quota_exceeded_means_no_model_call(tmp_path: Path) -> None:
    h = await make_harness(tmp_path, archbot_commands_per_issue_per_hour=1)
    h.fake.add_issue(REPO, 12, title="Upload processing", body=VAGUE)
    h.fake.set_permission(REPO, "alice", "write")
    h.model.script("submit_plan", PLAN)
    await command(h, "/plan --now")
    await command(h, "/plan --now", comment_id=5005)
    assert len(h.model.calls("submit_plan")) == 1
    assert any("at most 1 commands per issue per hour" in c.body for c in h.comments(12))
    await h.close()

    budget = await make_harness(tmp_path / "b", archbot_daily_token_budget=1)
    budget.fake.add_issue(REPO, 12, title="Upload processing", body=VAGUE)
    budget.fake.set_permission(REPO, "alice", "write")
    budget.model.script("submit_plan", PLAN)
    await command(budget, "/plan --now")  # spends more than the budget of 1 token
    await command(budget, "/plan --now", comment_id=5006)
    assert len(budget.model.calls("submit_plan")) == 1
    assert any("daily token budget" in c.body for c in budget.comments(12))
    await budget.close()
