"""docs/rules.md, generated from the rule catalogue: one section (and anchor) per rule.

``python -m app.static.rules_doc > docs/rules.md`` rewrites the file; a test checks that the committed
file is what :func:`render_rules_page` produces, so the page and the SARIF help never drift apart.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from app.static.rule_catalogue import CATALOGUE, RuleDoc, RuleKind, github_anchor

_SECTIONS: tuple[tuple[RuleKind, str, str], ...] = (
    (
        RuleKind.OWN,
        "archbot's own rules",
        "Deterministic checks written for archbot. They run on the changed lines of Python files, need no "
        "model, and are the same on every run.",
    ),
    (
        RuleKind.RUFF,
        "ruff rules archbot runs",
        "archbot runs [ruff](https://docs.astral.sh/ruff/) with its own selection (the repository's ruff "
        "settings are never read). The text below is ours; each entry links to ruff's own page.",
    ),
    (
        RuleKind.MODEL,
        "Model review findings",
        "Findings of the model's review have one rule per category. A model finding can carry a "
        "deterministic rule id only when it confirms that deterministic finding in the same chunk; "
        "otherwise its rule is its category.",
    ),
)


def _severity(doc: RuleDoc) -> str:
    return doc.severity.value if doc.severity is not None else "set per finding"


def _table(docs: Iterable[RuleDoc]) -> list[str]:
    rows = ["| Rule | Category | Severity | What it flags |", "| --- | --- | --- | --- |"]
    rows += [f"| [`{d.id}`](#{github_anchor(d.id)}) | {d.category.value} | {_severity(d)} | {d.short} |" for d in docs]
    return rows


def _entry(doc: RuleDoc) -> list[str]:
    return [
        f"### {doc.id}",
        "",
        f"**{doc.short}**",
        "",
        f"Category: {doc.category.value} · severity: {_severity(doc)} · name: `{doc.name}`",
        "",
        doc.help_markdown(),
        "",
    ]


def render_rules_page() -> str:
    """The whole of docs/rules.md."""
    lines = [
        "# archbot rules",
        "",
        "Every rule archbot can report, as GitHub code scanning shows it (SARIF rule help). This page is "
        "generated from the catalogue in `app/review/` by `python -m app.static.rules_doc > docs/rules.md`; "
        "do not edit it by hand.",
        "",
    ]
    for kind, title, intro in _SECTIONS:
        docs = [doc for doc in CATALOGUE.values() if doc.kind is kind]
        lines += [f"## {title}", "", intro, "", *_table(docs), ""]
        for doc in docs:
            lines += _entry(doc)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    """Write the page to stdout."""
    sys.stdout.write(render_rules_page())


if __name__ == "__main__":
    main()
