"""Planted secrets never leave archbot: not to the model, a log line, a metric, GitHub or SARIF.

Every credential of the corpus (``tests/fixtures/secrets/corpus.yaml``: AWS, GitHub classic,
fine-grained and installation tokens, Anthropic, OpenAI, Slack, Stripe, PEM, JWT, a database URL) is
planted in the diff, the changed file's contents, the PR title and body, a design-doc issue, the
/plan discussion, and in error messages from GitHub and from the model. The fake model repeats its
whole prompt back (the worst case). Logs are captured as rendered (archbot's JSON lines and the
standard library's) at DEBUG; metrics are scraped from ``GET /metrics``.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml
from prometheus_client import generate_latest

from app.action import run_action
from app.github.client import GitHubFactory
from app.logs import configure_logging
from app.settings import Settings
from tests.e2e import BASE, PRS, REPO, SHA1, Harness, make_harness, pr_payload
from tests.fakegithub import ACTIONS_TOKEN, FakeGitHub
from tests.fakemodel import FACTS_STATED, FakeModel, serve_model
from tests.hostile import obedient_fill, posted, strings_in, user_text
from tests.test_action import clean_env
from tests.test_action import pr_payload as action_pr_payload
from tests.test_e2e_issues import comment_payload, issue_payload

CORPUS = Path(__file__).parent / "fixtures" / "secrets" / "corpus.yaml"
FILE_V1 = (PRS / "inference_v1.py").read_text()
DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
LEAKY_PATH = "service/prod_settings.py"
DATA_BLOCK = re.compile(r"<untrusted-data [^>]*>\n(.*?)\n</untrusted-data", re.DOTALL)
PLACES = ("diff", "file contents", "PR title", "PR body", "issue body", "issue comments", "error messages")


@dataclass(frozen=True)
class Secret:
    kind: str
    secret: str
    text: str


def corpus() -> list[Secret]:
    return [Secret(**c) for c in yaml.safe_load(CORPUS.read_text(encoding="utf-8"))]


def all_texts() -> str:
    return "\n".join(s.text for s in corpus())


def leaky_module() -> str:
    """A Python module carrying every secret of the corpus (the PEM inside a string)."""
    lines = ['"""Production settings (do not commit)."""', ""]
    for s in corpus():
        if s.kind == "pem":
            lines += ['PRIVATE_KEY = """', *s.text.splitlines(), '"""']
        elif s.kind in {"openai", "github_fine_grained"}:  # written as comments
            lines.append(f"# {s.text}")
        else:
            lines.append(s.text)
    lines += ["", "def load(blob: bytes) -> object:", "    import pickle", "", "    return pickle.loads(blob)", ""]
    return "\n".join(lines)


def leaky_diff() -> str:
    body = leaky_module().splitlines()
    return DIFF_V1 + (
        f"diff --git a/{LEAKY_PATH} b/{LEAKY_PATH}\nnew file mode 100644\nindex 0000000..2222222\n"
        f"--- /dev/null\n+++ b/{LEAKY_PATH}\n@@ -0,0 +1,{len(body)} @@\n" + "\n".join("+" + x for x in body) + "\n"
    )


def shown_data(body: dict[str, Any]) -> str:
    """The untrusted data of a prompt (what a model repeating its input would repeat)."""
    return "\n".join(DATA_BLOCK.findall(user_text(body)))


def echo_review(body: dict[str, Any]) -> dict[str, Any]:
    """A model that repeats what it was shown: summary and a finding rationale are its prompt's data."""
    seen = shown_data(body)
    return {
        "summary": seen[:4000],
        "findings": [
            {
                "path": LEAKY_PATH,
                "line": 3,
                "side": "RIGHT",
                "severity": "high",
                "category": "security",
                "title": "Secrets committed",
                "rationale": seen[-4000:],
            }
        ],
    }


def echo_any(template: dict[str, Any]) -> Any:
    return lambda body: obedient_fill(template, shown_data(body)[:3000])


def assert_no_secret(where: str, text: str) -> None:
    for s in corpus():
        assert s.secret not in text, f"{s.kind} leaked into {where}"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """archbot's logging as in production (JSON lines, redaction on) at DEBUG, the stdlib's too."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("DEBUG", fmt="json", stream=buffer)
    root.setLevel(logging.DEBUG)  # every logger at DEBUG, as if each library had been told so
    for name in ("anthropic", "httpx", "httpx2", "httpcore", "githubkit"):  # ANTHROPIC_LOG=debug and the like
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        structlog.reset_defaults()
        for name in ("anthropic", "httpx", "httpx2", "httpcore", "githubkit"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def h(tmp_path: Path) -> Any:
    harness = await make_harness(tmp_path, config="review:\n  severity_threshold: high\n")
    yield harness
    await harness.close()


def add_leaky_pr(fake: FakeGitHub, number: int = 7) -> None:
    fake.add_pr(
        REPO,
        number,
        diff=leaky_diff(),
        head_sha=SHA1,
        base_sha=BASE,
        title=f"Add prod settings {corpus()[2].text}",
        body=all_texts(),
        head_files={"service/inference.py": FILE_V1 + "\n# " + corpus()[0].text + "\n", LEAKY_PATH: leaky_module()},
    )


async def scrape(h: Harness) -> str:
    metrics = (await h.client.get("/metrics")).text
    return metrics + generate_latest(h.deps.metrics.registry).decode()


async def test_secrets_in_a_pr_reach_neither_model_nor_logs_metrics_or_github(
    captured_logs: io.StringIO, h: Harness
) -> None:
    add_leaky_pr(h.fake)
    h.model.script("submit_review", echo_review)
    payload = pr_payload("opened")
    payload["pull_request"]["title"] = f"Add prod settings {corpus()[2].text}"
    payload["pull_request"]["body"] = all_texts()
    assert (await h.deliver("pull_request", payload)).status_code == 202
    assert await h.drain() == 1
    assert h.model.calls("submit_review") and h.reviews()
    assert_no_secret("the model requests", json.dumps(h.model.requests) + "".join(map(user_text, h.model.requests)))
    sent = posted(h.fake.requests)
    assert_no_secret("GitHub", "\n".join(sent.markdown + sent.plain))
    assert "[REDACTED:" in "\n".join(sent.markdown)  # the model echoed them, redacted
    assert_no_secret("the metrics", await scrape(h))
    assert_no_secret("the logs", captured_logs.getvalue())
    assert "job.done" in captured_logs.getvalue()  # the capture did see the job
    # nor any prompt or diff, even with every library logger at DEBUG (the SDK logs whole requests)
    for fragment in ("untrusted-data", "# Task: review", "You are archbot", "pickle.loads"):
        assert fragment not in captured_logs.getvalue(), fragment


async def test_secrets_in_error_messages_from_github_and_the_model(captured_logs: io.StringIO, h: Harness) -> None:
    add_leaky_pr(h.fake)
    message = f"Bad credentials for {corpus()[4].text} at {corpus()[12].text}"
    h.model.fail_with = [(400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}}, {})]
    h.fake.fail_next("POST", r"/pulls/7/reviews$", status=422, json={"message": message, "errors": [message]})
    h.fake.fail_next("POST", r"/graphql$", status=502, json={"message": message})
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    h.clock.now += 3600
    await h.drain()
    assert h.fake.check_runs(REPO)
    sent = posted(h.fake.requests)
    assert_no_secret("GitHub", "\n".join(sent.markdown + sent.plain))
    assert_no_secret("the logs", captured_logs.getvalue())
    assert_no_secret("the metrics", await scrape(h))


async def test_secrets_in_design_docs_and_plan_discussions(captured_logs: io.StringIO, h: Harness) -> None:
    from tests.fakemodel import DESIGN_REVIEW, PLAN

    h.fake.add_issue(REPO, 12, title="Design: rotate keys", body=all_texts(), labels=["design-doc"])
    for s in corpus():
        h.fake.add_comment(REPO, 12, f"here is the one we use: {s.text}", author="bob")
    h.fake.set_permission(REPO, "alice", "write")
    h.model.script("submit_design_review", echo_any(DESIGN_REVIEW))
    h.model.script("submit_plan", echo_any(PLAN))
    h.model.script("submit_clarification", FACTS_STATED)
    await h.deliver("issues", issue_payload("labeled"))
    cid = h.fake.add_comment(REPO, 12, "/plan --now", author="alice")
    await h.deliver("issue_comment", comment_payload("/plan --now", comment_id=cid))
    await h.drain()
    assert h.model.calls("submit_design_review") and h.model.calls("submit_plan")
    assert_no_secret("the model requests", "".join(map(user_text, h.model.requests)))
    sent = posted(h.fake.requests)
    assert_no_secret("GitHub", "\n".join(sent.markdown + sent.plain))
    assert_no_secret("the logs", captured_logs.getvalue())


async def test_action_mode_keeps_secrets_out_of_posts_sarif_summary_and_workflow_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, captured_logs: io.StringIO
) -> None:
    clean_env(monkeypatch)
    fake = FakeGitHub()
    fake.add_repo(REPO)
    add_leaky_pr(fake)
    model = FakeModel()
    model.script("submit_review", echo_review)
    payload = action_pr_payload(title=f"Add prod settings {corpus()[2].text}")
    payload["pull_request"]["body"] = all_texts()
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
            anthropic_api_key=corpus()[5].secret,  # the key itself is one of the corpus
            anthropic_base_url=model_url,
            github_step_summary=tmp_path / "summary.md",
            github_output=tmp_path / "output.txt",
            archbot_sarif_file=tmp_path / "archbot.sarif",
            archbot_log_level="DEBUG",
        )
        code = await run_action(settings, out=out, factory=factory, configure_logs=True)
    assert code == 0, out.getvalue()
    assert model.calls("submit_review")
    sent = posted(fake.requests)
    assert_no_secret("GitHub", "\n".join(sent.markdown + sent.plain))
    assert_no_secret("the model requests", "".join(map(user_text, model.requests)))
    assert_no_secret("the workflow log", out.getvalue())
    assert_no_secret("the job summary", (tmp_path / "summary.md").read_text(encoding="utf-8"))
    sarif = json.loads((tmp_path / "archbot.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"]
    assert_no_secret("SARIF", "\n".join(t for t, _ in strings_in(sarif)))


def test_every_secret_of_the_corpus_is_one_the_redactor_knows() -> None:
    """The corpus is only worth something if each entry is a credential archbot must catch."""
    from app.review.sanitize import find_secrets, redact_secrets

    kinds = corpus()
    assert len(kinds) >= 13 and len({s.kind for s in kinds}) == len(kinds)
    for s in kinds:
        assert s.secret in s.text and find_secrets(s.text), s.kind
        assert s.secret not in redact_secrets(s.text), s.kind
