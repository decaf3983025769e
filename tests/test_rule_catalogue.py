"""The rule catalogue: every rule archbot can report has its help, and docs/rules.md is generated from it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.review.models import Category
from app.static.checks import RawFinding
from app.static.engine import MODULE_CHECKS
from app.static.module_view import ModuleView
from app.static.ruff_adapter import RUFF_RULES, default_ruff_bin
from app.static.ruff_help import RUFF_HELP
from app.static.rule_catalogue import (
    CATALOGUE,
    PROJECT_URL,
    RULES_DOC_URL,
    RuleKind,
    github_anchor,
    lookup,
    model_rule,
)
from app.static.rules import RULES, StaticRule
from app.static.rules_doc import render_rules_page

ROOT = Path(__file__).resolve().parent.parent
RULES_PAGE = ROOT / "docs" / "rules.md"


def test_catalogue_holds_exactly_the_own_the_ruff_and_the_model_rules() -> None:
    expected = {rule.id for rule in RULES} | {f"ruff:{code}" for code in RUFF_RULES}
    expected |= {f"archbot/{category.value}" for category in Category}
    assert set(CATALOGUE) == expected
    assert set(RUFF_HELP) == set(RUFF_RULES)  # a newly selected ruff rule needs its help written
    assert lookup("Static rule about x.py: anything") is None and lookup(None) is None and lookup("ruff:E501") is None
    for category in Category:
        assert model_rule(category).kind is RuleKind.MODEL and model_rule(category).category is category


@pytest.mark.parametrize("rule_id", sorted(CATALOGUE))
def test_every_rule_explains_what_it_catches_why_and_the_safe_pattern(rule_id: str) -> None:
    doc = CATALOGUE[rule_id]
    for text in (doc.short, doc.catches, doc.why, doc.safe):
        assert text.strip() == text and len(text) > 15, text
    for text in (doc.catches, doc.why, doc.safe):
        assert text.endswith((".", ")")), text
    assert "|" not in doc.short  # it goes into a Markdown table
    assert doc.pascal_name.isalnum() and doc.pascal_name[0].isupper()
    text, markdown = doc.help_text(), doc.help_markdown()
    for part in (doc.catches, doc.why, doc.safe):
        assert part in text and part in markdown
    assert doc.help_uri in text
    if doc.kind is RuleKind.OWN:
        assert doc.unsafe_example and doc.safe_example and doc.unsafe_example != doc.safe_example
        assert f"```python\n{doc.unsafe_example}\n```" in markdown
        compile(doc.safe_example, rule_id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if doc.kind is RuleKind.RUFF:
        assert doc.help_uri == f"https://docs.astral.sh/ruff/rules/{doc.name}/"
        assert f"]({doc.help_uri})" in markdown
    else:
        assert doc.help_uri == f"{RULES_DOC_URL}#{github_anchor(rule_id)}"


def test_ruff_rule_names_are_ruffs_own_so_the_help_links_resolve() -> None:
    binary = default_ruff_bin()
    assert binary is not None
    listing = subprocess.run(
        [binary, "rule", "--all", "--output-format", "json"], capture_output=True, text=True, check=True, timeout=60
    )
    names = {rule["code"]: rule["name"] for rule in json.loads(listing.stdout)}
    assert {code: help.name for code, help in RUFF_HELP.items()} == {code: names[code] for code in RUFF_HELP}


def test_github_anchor() -> None:
    assert github_anchor("ARCH101") == "arch101"
    assert github_anchor("ruff:S608") == "ruffs608"
    assert github_anchor("archbot/security") == "archbotsecurity"
    assert github_anchor("ruff:ASYNC210") == "ruffasync210"
    assert github_anchor("archbot's own rules") == "archbots-own-rules"


def test_committed_rules_page_is_the_generated_one() -> None:
    assert RULES_PAGE.read_text(encoding="utf-8") == render_rules_page(), (
        "docs/rules.md is out of date: run `python -m app.static.rules_doc > docs/rules.md`"
    )


def test_rules_page_has_one_anchor_per_rule_and_each_help_uri_points_at_one() -> None:
    page = render_rules_page()
    headings = [line[4:] for line in page.splitlines() if line.startswith("### ")]
    assert headings == list(CATALOGUE)
    anchors = {github_anchor(heading) for heading in headings}
    assert len(anchors) == len(headings)
    for doc in CATALOGUE.values():
        if doc.kind is not RuleKind.RUFF:
            assert doc.help_uri.removeprefix(f"{RULES_DOC_URL}#") in anchors
        assert doc.help_markdown() in page


def test_rules_page_module_writes_the_page() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.static.rules_doc"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout == render_rules_page()


def test_pyproject_urls_agree_with_the_catalogue() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Homepage"] == PROJECT_URL
    assert urls["Rules"] == RULES_DOC_URL


_EXAMPLE_PRELUDE = (
    "import asyncio, threading, time\nimport boto3, httpx, jwt, requests, torch\n"
    "from fastapi import Depends, FastAPI\napp = FastAPI()\ns3 = boto3.client('s3')\n"
)


def _as_module(example: str) -> str:
    """An example as a module: definitions as they are, statements inside a coroutine that awaits."""
    if example.startswith(("async def", "@", "_", "background")):
        return _EXAMPLE_PRELUDE + example + "\n"
    body = "\n".join(f"    {line}" if line else "" for line in example.split("\n"))
    return (
        _EXAMPLE_PRELUDE
        + "async def handler(url, path, token, uid, event, worker, log, public_key):\n"
        + (f"    await asyncio.sleep(0)\n{body}\n")
    )


def check_module(tree: ast.Module) -> list[RawFinding]:
    """Every own module check (the engine's MODULE_CHECKS) on one module, every line changed."""
    view = ModuleView(tree, "example.py", [], frozenset())
    return [raw for check in MODULE_CHECKS for raw in check(view)]


@pytest.mark.parametrize("rule", [r for r in RULES if r.id != "ARCH112"], ids=lambda r: r.id)
def test_own_rule_examples_are_true_flagged_and_safe(rule: StaticRule) -> None:
    # ARCH112 is left out: its example must not hold anything that looks like a real key.
    flagged = {raw.rule_id for raw in check_module(ast.parse(_as_module(rule.unsafe)))}
    safe = {raw.rule_id for raw in check_module(ast.parse(_as_module(rule.safe)))}
    assert rule.id in flagged and rule.id not in safe
