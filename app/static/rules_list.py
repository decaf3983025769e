"""``archbot rules``: every rule archbot can report, as a text table, JSON or Markdown.

The text comes from the rule catalogue (:mod:`app.static.rule_catalogue`), the same one SARIF's rule
help and docs/rules.md are built from; nothing is written twice. The README's "Rules" table is
:func:`readme_table` (a test checks it is current). Pure string building; imports no web stack or SDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from app.static.rule_catalogue import CATALOGUE, RuleDoc, RuleKind
from app.static.rules import RULES_BY_ID

FORMATS = ("text", "json", "markdown")
README_START = "<!-- archbot rules: generated from the rule catalogue (app.static.rules_list); do not edit -->"
README_END = "<!-- end of archbot rules -->"
_KIND_TITLE = {
    RuleKind.OWN: "archbot's own rules",
    RuleKind.RUFF: "ruff rules archbot runs",
    RuleKind.MODEL: "Model review categories",
}


def family(doc: RuleDoc) -> str:
    """The rule's family (bench/corpus family for own rules that name one), else its category."""
    own = RULES_BY_ID.get(doc.id) if doc.kind is RuleKind.OWN else None
    return own.family if own is not None and own.family else doc.category.value


def severity(doc: RuleDoc) -> str:
    return doc.severity.value if doc.severity is not None else "per finding"


def select(rule_ids: Sequence[str] = (), *, own_only: bool = False) -> list[RuleDoc]:
    """The rules named (case-insensitive; ``S608`` also finds ``ruff:S608``), or all of them.

    Raises ``KeyError`` naming the first id archbot has no rule for.
    """
    docs = [d for d in CATALOGUE.values() if not own_only or d.kind is RuleKind.OWN]
    if not rule_ids:
        return docs
    by_id = {d.id.lower(): d for d in CATALOGUE.values()}
    chosen: list[RuleDoc] = []
    for rule_id in rule_ids:
        key = rule_id.strip().lower()
        doc = by_id.get(key) or by_id.get(f"ruff:{key}") or by_id.get(f"archbot/{key}")
        if doc is None:
            raise KeyError(rule_id)
        chosen.append(doc)
    return chosen


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_text(docs: Sequence[RuleDoc], *, details: bool = False) -> str:
    """An aligned table (id, kind, family, severity, what it catches); with ``details`` each rule's help."""
    if details:
        blocks = []
        for doc in docs:
            head = f"{doc.id}  {doc.short}\nkind: {doc.kind.value} · family: {family(doc)} · severity: {severity(doc)}"
            blocks.append(f"{head} · name: {doc.name}\n\n{doc.help_text()}")
        return ("\n\n" + "-" * 72 + "\n\n").join(blocks) + "\n"
    rows = [("RULE", "KIND", "FAMILY", "SEVERITY", "CATCHES")]
    rows += [(d.id, d.kind.value, family(d), severity(d), _one_line(d.catches, 90)) for d in docs]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    footer = f"\n{len(docs)} rule(s). `archbot rules ID` shows one rule with its examples; docs/rules.md has them all."
    return "\n".join(line.rstrip() for line in lines) + "\n" + footer + "\n"


def render_json(docs: Iterable[RuleDoc]) -> str:
    """One object per rule: the catalogue's fields, the family, and the examples of own rules."""
    items = [
        {
            "id": d.id,
            "kind": d.kind.value,
            "name": d.name,
            "family": family(d),
            "category": d.category.value,
            "severity": d.severity.value if d.severity is not None else None,
            "title": d.short,
            "catches": d.catches,
            "why": d.why,
            "fix": d.safe,
            "unsafe_example": d.unsafe_example,
            "safe_example": d.safe_example,
            "help_uri": d.help_uri,
        }
        for d in docs
    ]
    return json.dumps({"rules": items}, indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(docs: Iterable[RuleDoc]) -> str:
    """A Markdown table: rule (linking its docs/rules.md entry), family, severity, what it catches."""
    rows = ["| Rule | Family | Severity | What it catches |", "| --- | --- | --- | --- |"]
    rows += [f"| [`{d.id}`]({d.help_uri}) | {family(d)} | {severity(d)} | {_cell(d.catches)} |" for d in docs]
    return "\n".join(rows) + "\n"


def render_markdown(docs: Sequence[RuleDoc]) -> str:
    """One table per kind of rule present in ``docs``."""
    parts = []
    for kind, title in _KIND_TITLE.items():
        of_kind = [d for d in docs if d.kind is kind]
        if of_kind:
            parts.append(f"### {title}\n\n{markdown_table(of_kind)}")
    return "\n".join(parts)


def readme_table() -> str:
    """The block between the README's rule markers: archbot's own rules as a table."""
    return f"{README_START}\n{markdown_table(select(own_only=True))}{README_END}"


def render(docs: Sequence[RuleDoc], output_format: str, *, details: bool = False) -> str:
    """The listing in ``output_format`` (one of :data:`FORMATS`)."""
    if output_format == "json":
        return render_json(docs)
    if output_format == "markdown":
        return render_markdown(docs)
    return render_text(docs, details=details)


def with_readme_table(readme: str) -> str:
    """``readme`` with the block between the rule markers replaced by :func:`readme_table`."""
    start, end = readme.index(README_START), readme.index(README_END) + len(README_END)
    return readme[:start] + readme_table() + readme[end:]


if __name__ == "__main__":  # python -m app.static.rules_list README.md: rewrite the README's table
    import sys
    from pathlib import Path

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    target.write_text(with_readme_table(target.read_text(encoding="utf-8")), encoding="utf-8")
