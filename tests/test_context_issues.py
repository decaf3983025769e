"""/plan and design reviews on an issue (signed webhooks against the fake GitHub) carry the code of the
default branch that the issue names: one GraphQL read, none when the issue names no Python file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e import REPO, Harness, make_harness
from tests.fakemodel import PLAN
from tests.test_e2e_issues import command, sticky

QUEUE = '''"""The upload queue."""
import threading

_LOCK = threading.Lock()


class UploadQueue:
    def push(self, item: bytes) -> None:
        with _LOCK:
            self._items.append(item)
'''
NAMING = "Replace `UploadQueue.push` (svc/queue.py) with a Kafka producer; 50 uploads/s, PII, GPU model."


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    harness.fake.set_permission(REPO, "alice", "write")
    branch = harness.fake.repos[REPO].default_branch
    harness.fake.set_file(REPO, branch, "svc/queue.py", QUEUE)
    harness.model.script("submit_plan", PLAN)
    yield harness
    await harness.close()


def _user_text(call: dict[str, object]) -> str:
    messages = call["messages"]
    assert isinstance(messages, list)
    return "\n".join(b["text"] for b in messages[0]["content"] if b.get("type") == "text")


async def test_plan_carries_the_named_code_read_in_one_graphql_call(h: Harness) -> None:
    h.fake.add_issue(REPO, 12, title="Queue uploads", body=NAMING, labels=[])
    await command(h, "/plan --now")
    [plan] = sticky(h, "plan")
    assert "client -> api -> kafka" in plan.body
    [call] = h.model.calls("submit_plan")
    code = _user_text(call).split("## Code of the repository the text names", 1)[1]
    assert "### Context: svc/queue.py lines 8-10" in code and "  10 |             self._items.append(item)" in code
    reads = [r for r in h.fake.requests if r.graphql == "query ArchbotReviewContext"]
    assert len(reads) == 1


async def test_an_issue_naming_no_python_file_costs_no_read(h: Harness) -> None:
    h.fake.add_issue(REPO, 12, title="Queue uploads", body="Process uploads with a model.", labels=[])
    await command(h, "/plan --now")
    [call] = h.model.calls("submit_plan")
    assert "(none)" in _user_text(call).split("## Code of the repository the text names", 1)[1]
    assert not [r for r in h.fake.requests if r.graphql == "query ArchbotReviewContext"]
