"""The bodies ``archbot send-test-delivery`` sends are shaped like GitHub's and route like them."""

from __future__ import annotations

from typing import Any

import pytest

from app.events import parse_event
from app.handlers import build_router
from app.jobs import JobKind
from app.routing import HandlerContext
from app.sample_deliveries import NO_COMMIT, pull_request_opened
from app.serve import delivery_body
from app.settings import Settings, SettingsError
from tests.webhook_helpers import load_payload

HEAD = "c" * 40


def keys(value: Any) -> set[str]:
    assert isinstance(value, dict)
    return set(value)


@pytest.mark.parametrize("fixture", ["opened.payload.json", "opened.with-organization.payload.json"])
def test_pull_request_opened_has_the_shape_of_githubs_delivery(fixture: str) -> None:
    real = load_payload("pull_request", fixture)
    sample = pull_request_opened(repo="octo/app", number=12, installation_id=77, head_sha=HEAD)
    assert keys(sample) - {"organization"} <= keys(real) and keys(real) - keys(sample) <= {"organization"}
    assert keys(sample["pull_request"]) == keys(real["pull_request"])
    for side in ("head", "base"):
        assert keys(sample["pull_request"][side]) == keys(real["pull_request"][side])
        assert keys(sample["pull_request"][side]["user"]) <= keys(real["pull_request"][side]["user"])
    assert keys(sample["pull_request"]["_links"]) == keys(real["pull_request"]["_links"])
    assert keys(sample["repository"]) <= keys(real["repository"])
    assert keys(sample["sender"]) <= keys(real["sender"])
    assert sample["installation"]["id"] == 77
    assert (sample["action"], sample["number"], sample["pull_request"]["number"]) == ("opened", 12, 12)


async def test_pull_request_opened_queues_a_review_of_that_pr_and_head() -> None:
    sample = pull_request_opened(repo="octo/app", number=12, installation_id=77, head_sha=HEAD)
    (job,) = await build_router().dispatch(parse_event("pull_request", sample), HandlerContext(delivery_id="d"))
    assert (job.kind, job.repo, job.number, job.installation_id, job.head_sha) == (
        JobKind.REVIEW_PR,
        "octo/app",
        12,
        77,
        HEAD,
    )


def test_delivery_body_checks_its_options() -> None:
    settings = Settings(github_api_url="https://ghe.example/api/v3")
    body = delivery_body(settings, event="pull_request", repo="octo/app", pr=3, installation=9)
    assert NO_COMMIT.encode() in body and b"https://ghe.example/api/v3/repos/octo/app/pulls/3" in body
    with pytest.raises(SettingsError, match="needs --pr NUMBER, --installation ID"):
        delivery_body(settings, event="pull_request", repo="octo/app")
    with pytest.raises(SettingsError, match="OWNER/NAME"):
        delivery_body(settings, event="pull_request", repo="octo", pr=3, installation=9)
    with pytest.raises(SettingsError, match="--head-sha"):
        delivery_body(settings, event="pull_request", repo="o/a", pr=3, installation=9, head_sha="abc")
    with pytest.raises(SettingsError, match="positive"):
        delivery_body(settings, event="pull_request", repo="o/a", pr=0, installation=9)
    with pytest.raises(SettingsError, match="push"):
        delivery_body(settings, event="push")
