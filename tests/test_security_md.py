"""SECURITY.md names, for each threat, the test that proves its mitigation: every one must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREATS = (
    "Forged and replayed deliveries",
    "Oversized and slow bodies",
    "Rate limits",
    "Denial of wallet",
    "Prompt injection",
    "Malicious model output",
    "Secret leakage",
    "Action misuse on forks and `pull_request_target`",
    "Key compromise and rotation",
    "Crash mid-post",
)
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_threat_has_a_section_with_a_mitigation_and_tests() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert "## Reporting a vulnerability" in text
    sections = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    titles = [s.splitlines()[0] for s in sections]
    for threat in THREATS:
        [section] = [s for s, title in zip(sections, titles, strict=True) if title.startswith(threat)]
        assert "*Mitigation*" in section and REFERENCE.search(section), threat


def test_every_named_test_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(text)
    assert len(references) >= 40
    missing = []
    for path, name in references:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        if name not in defined:
            missing.append(f"{path}::{name}")
    assert missing == []
