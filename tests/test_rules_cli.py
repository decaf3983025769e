"""``archbot rules``: every rule of the catalogue, as text, JSON or Markdown, run as the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.static.rule_catalogue import CATALOGUE
from app.static.rules_list import README_END, README_START, readme_table, with_readme_table
from tests.test_startup_imports import probe

ROOT = Path(__file__).resolve().parent.parent


def archbot(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def test_help_lists_the_rules_subcommand() -> None:
    done = archbot("--help")
    assert done.returncode == 0 and "rules" in done.stdout and "list every rule" in done.stdout


def test_text_table_lists_every_rule_aligned() -> None:
    done = archbot("rules")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["RULE", "KIND", "FAMILY", "SEVERITY", "CATCHES"]
    listed = {line.split()[0] for line in lines[1 : 1 + len(CATALOGUE)]}
    assert listed == set(CATALOGUE)
    column = lines[0].index("KIND")
    assert all(line[column - 2 : column] == "  " for line in lines[1 : 1 + len(CATALOGUE)])


def test_one_rule_in_detail_with_its_examples() -> None:
    done = archbot("rules", "arch110")
    assert done.returncode == 0, done.stderr
    doc = CATALOGUE["ARCH110"]
    assert doc.unsafe_example is not None and doc.safe_example is not None
    assert done.stdout.startswith("ARCH110")
    assert doc.unsafe_example.splitlines()[0] in done.stdout and doc.safe_example.splitlines()[0] in done.stdout
    assert "severity: critical" in done.stdout
    ruff = archbot("rules", "S608")
    assert ruff.returncode == 0 and ruff.stdout.startswith("ruff:S608")


def test_unknown_rule_is_a_usage_error() -> None:
    done = archbot("rules", "ARCH999")
    assert done.returncode == 2 and "ARCH999" in done.stderr and done.stdout == ""


def test_json_holds_every_rule_with_family_severity_and_own_examples() -> None:
    done = archbot("rules", "--format", "json")
    assert done.returncode == 0, done.stderr
    rules = {r["id"]: r for r in json.loads(done.stdout)["rules"]}
    assert set(rules) == set(CATALOGUE)
    own = [r for r in rules.values() if r["kind"] == "archbot"]
    assert own and all(r["unsafe_example"] and r["safe_example"] and r["family"] for r in own)
    assert rules["archbot/security"]["severity"] is None
    assert rules["ruff:S608"]["severity"] == CATALOGUE["ruff:S608"].severity


def test_markdown_has_one_table_per_kind() -> None:
    done = archbot("rules", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("| Rule | Family | Severity | What it catches |") == 3
    assert all(f"[`{rule_id}`]" in done.stdout for rule_id in CATALOGUE)
    own = archbot("rules", "--own", "--format", "markdown")
    assert "ruff:" not in own.stdout and "ARCH101" in own.stdout


def test_readme_rule_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_START in readme and README_END in readme
    assert readme_table() in readme, "README rules table is out of date: run `python -m app.static.rules_list`"
    assert with_readme_table(readme) == readme


def test_rules_imports_no_sdk_or_web_stack() -> None:
    code, loaded, done = probe("rules", "--format", "json")
    assert code == 0, done.stderr
    assert loaded == []
