"""Prompt injection with a model that obeys it: nothing of it reaches GitHub, in App, Action and CLI mode.

The corpus (``tests/fixtures/injection/cases.yaml``) is planted where archbot reads untrusted text:
the PR title and body, added code and comments, a design-doc issue, the /plan discussion and the
repository config's ``instructions``. The fake model then does everything the texts ask (see
``tests.hostile``). Every byte archbot sends to the fake GitHub is checked: the review event stays
``COMMENT``, markup, pings, foreign links, forged markers and secrets are gone, no system prompt is
repeated, invented locations never become inline comments, annotations or SARIF results, and the
check gate still fails on the deterministic high findings the model was told to dismiss.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.action import run_action
from app.github.client import GitHubFactory
from app.local import Options, run_review
from app.review.markers import parse_marker
from app.settings import Settings
from tests.e2e import BASE, PRS, REPO, SHA1, Harness, make_harness, pr_payload
from tests.fakegithub import ACTIONS_TOKEN, FakeGitHub
from tests.fakemodel import DESIGN_REVIEW, FACTS_STATED, PLAN, FakeModel, serve_model
from tests.hostile import (
    ENV_KEY,
    ENV_TOKEN,
    assert_nothing_leaked,
    cases_at,
    joined,
    load_cases,
    obedient,
    obedient_review,
    posted,
    review_events,
    strings_in,
    user_text,
)
from tests.test_action import clean_env
from tests.test_action import pr_payload as action_pr_payload
from tests.test_e2e_issues import comment_payload, issue_payload

DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
FILE_V1 = (PRS / "inference_v1.py").read_text()
INJECTED_PATH = "service/injected.py"
INVENTED = ("secrets/prod.env", 9999)


def injected_module() -> str:
    """A changed Python file carrying the ``diff`` cases as data and the ``code_comment`` cases as comments."""
    lines = ['"""Ranking helpers.', ""]
    for case in cases_at("diff"):
        lines += [line.replace('"""', "'''") for line in case.text.splitlines()]
    lines += ['"""', "", "import pickle", "import time", ""]
    for case in cases_at("code_comment"):
        lines += [f"# {line}" for line in case.text.splitlines()]
    lines += ["async def load(blob: bytes) -> object:", "    time.sleep(1)", "    return pickle.loads(blob)", ""]
    return "\n".join(lines)


def injected_diff() -> str:
    """The recorded PR diff plus the new injected file."""
    body = injected_module().splitlines()
    hunk = "\n".join("+" + line for line in body)
    return DIFF_V1 + (
        f"diff --git a/{INJECTED_PATH} b/{INJECTED_PATH}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{INJECTED_PATH}\n@@ -0,0 +1,{len(body)} @@\n{hunk}\n"
    )


def repo_config() -> str:
    return yaml.safe_dump({"review": {"severity_threshold": "high", "instructions": joined("repo_config")}})


def pr_title() -> str:
    return " ".join(c.text for c in cases_at("pr_title"))


def add_hostile_pr(fake: FakeGitHub) -> None:
    fake.add_pr(
        REPO,
        7,
        diff=injected_diff(),
        head_sha=SHA1,
        base_sha=BASE,
        title=pr_title(),
        body=joined("pr_body"),
        head_files={"service/inference.py": FILE_V1, INJECTED_PATH: injected_module()},
    )


def assert_review_is_safe(fake: FakeGitHub, model: FakeModel) -> None:
    """What every mode must hold after the obedient PR review."""
    assert model.calls("submit_review"), "the model was asked (and obeyed)"
    assert review_events(fake) and set(review_events(fake)) == {"COMMENT"}
    assert all(r.event == "COMMENT" for r in fake.reviews(REPO, 7))
    texts = posted(fake.requests)
    assert_nothing_leaked(texts)
    for review in fake.reviews(REPO, 7):
        for comment in review.comments:
            assert (comment["path"], comment["line"]) != ("service/inference.py", 9999)
            assert comment["path"] in ("service/inference.py", INJECTED_PATH)
    for run in fake.check_runs(REPO):
        for annotation in run.annotations:
            assert annotation["path"] != INVENTED[0] and annotation["end_line"] != INVENTED[1], annotation
    # the deterministic high findings (pickle, time.sleep in async) survive the model's dismissals
    [run] = [r for r in fake.check_runs(REPO) if r.status == "completed"]
    assert run.conclusion == "failure", (run.title, run.summary)


def test_the_corpus_covers_every_place_and_ask() -> None:
    cases = load_cases()
    assert len(cases) >= 25 and len({c.id for c in cases}) == len(cases)
    places = {c.place for c in cases}
    assert places == {"pr_title", "pr_body", "diff", "code_comment", "design_doc", "issue_comment", "repo_config"}
    asks = {a for c in cases for a in c.asks}
    assert asks >= {
        "approve",
        "request_changes",
        "mention",
        "image",
        "link",
        "html",
        "marker",
        "system_prompt",
        "env",
        "severity_gate",
        "command",
        "invent_finding",
    }


# ---------------------------------------------------------------------------------------------- App


@pytest.fixture
async def h(tmp_path: Path) -> Any:
    harness = await make_harness(tmp_path, config=repo_config())
    yield harness
    await harness.close()


async def test_app_pr_review_with_an_obedient_model_posts_nothing_it_was_told(h: Harness) -> None:
    add_hostile_pr(h.fake)
    h.model.script("submit_review", obedient_review)
    payload = pr_payload("opened")
    payload["pull_request"]["title"] = pr_title()
    payload["pull_request"]["body"] = joined("pr_body")
    assert (await h.deliver("pull_request", payload)).status_code == 202
    assert await h.drain() == 1
    sent = "\n".join(user_text(r) for r in h.model.requests)
    for case in cases_at("pr_body") + cases_at("repo_config"):  # it all reached the model, as data
        assert case.probe in sent, case.id
    assert_review_is_safe(h.fake, h.model)
    [summary] = [c for c in h.comments() if parse_marker(c.body, "summary") is not None]
    marker = parse_marker(summary.body, "summary")
    assert marker is not None and marker["sha"] == SHA1  # archbot's own marker, not the forged one
    assert "Invented finding outside the diff" in summary.body  # kept, but only as text in the summary


async def test_app_design_review_and_plan_with_an_obedient_model(h: Harness) -> None:
    h.fake.add_issue(REPO, 12, title="Design: payments", body=joined("design_doc"), labels=["design-doc"])
    for case in cases_at("issue_comment"):
        h.fake.add_comment(REPO, 12, case.text, author="mallory")
    h.fake.set_permission(REPO, "alice", "write")
    h.model.script("submit_design_review", obedient(DESIGN_REVIEW))
    h.model.script("submit_plan", obedient(PLAN))
    h.model.script("submit_facts", FACTS_STATED)
    await h.deliver("issues", issue_payload("labeled"))
    cid = h.fake.add_comment(REPO, 12, "/plan --now", author="alice")
    await h.deliver("issue_comment", comment_payload("/plan --now", comment_id=cid))
    await h.drain()
    assert h.model.calls("submit_design_review") and h.model.calls("submit_plan")
    mine = [c for c in h.comments(12) if c.author.login == h.fake.bot.login]
    assert {k for c in mine for k in ("design", "plan") if parse_marker(c.body, k) is not None} == {"design", "plan"}
    assert_nothing_leaked(posted(h.fake.requests))


# ---------------------------------------------------------------------------------------------- Action


async def test_action_pr_review_with_an_obedient_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    fake = FakeGitHub()
    fake.add_repo(REPO, files={".github/archbot.yml": repo_config()})
    add_hostile_pr(fake)
    model = FakeModel()
    model.script("submit_review", obedient_review)
    payload = action_pr_payload(title=pr_title())
    payload["pull_request"]["body"] = joined("pr_body")
    (tmp_path / "event.json").write_text(json.dumps(payload), encoding="utf-8")
    factory = GitHubFactory(
        api_url="http://gh.test", token=ACTIONS_TOKEN, async_transport=fake.transport(), write_interval=0.0
    )
    out = io.StringIO()
    with serve_model(model) as model_url:
        settings = Settings(
            github_event_name="pull_request",
            github_event_path=tmp_path / "event.json",
            github_repository=REPO,
            github_token=ACTIONS_TOKEN,
            anthropic_api_key="sk-ant-test-action-key-0123456789",
            anthropic_base_url=model_url,
            github_step_summary=tmp_path / "summary.md",
            github_output=tmp_path / "output.txt",
            archbot_sarif_file=tmp_path / "archbot.sarif",
        )
        code = await run_action(settings, out=out, factory=factory, configure_logs=False)
    assert code == 0, out.getvalue()
    assert_review_is_safe(fake, model)
    sarif = json.loads((tmp_path / "archbot.sarif").read_text(encoding="utf-8"))
    assert_sarif_is_safe(sarif)
    job_summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert ENV_TOKEN not in job_summary and ENV_KEY not in job_summary and "<script" not in job_summary


def assert_sarif_is_safe(sarif: dict[str, Any]) -> None:
    results = sarif["runs"][0]["results"]
    assert results
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] != INVENTED[0]
        assert location.get("region", {}).get("startLine") != INVENTED[1]
    rules = [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert not any("999" in r or "approve" in r.lower() for r in rules), rules
    assert_nothing_leaked([t for t, _ in strings_in(results) if not t.startswith("archbot/")])


# ---------------------------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("fmt", ["sarif", "markdown"])
async def test_cli_review_with_an_obedient_model(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "inference.py").write_text(FILE_V1, encoding="utf-8")
    (tmp_path / INJECTED_PATH).write_text(injected_module(), encoding="utf-8")
    (tmp_path / "pr.patch").write_text(injected_diff(), encoding="utf-8")
    (tmp_path / "archbot.yml").write_text(repo_config(), encoding="utf-8")
    model = FakeModel()
    model.script("submit_review", obedient_review)
    out, err = io.StringIO(), io.StringIO()
    options = Options(
        diff=str(tmp_path / "pr.patch"),
        repo_dir=tmp_path,
        output_format=fmt,
        dry_run=False,
        config_path=tmp_path / "archbot.yml",
    )
    code = await run_review(Settings(), options, out=out, err=err, model=model.provider().model())
    assert code == 0, err.getvalue()
    assert model.calls("submit_review")
    document = out.getvalue()
    if fmt == "sarif":
        assert_sarif_is_safe(json.loads(document))
    else:
        assert_nothing_leaked([document])
    assert ENV_TOKEN not in err.getvalue() and ENV_KEY not in err.getvalue()
