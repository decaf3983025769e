"""Every rule archbot can report, with the text that explains it: SARIF rule metadata and docs/rules.md.

Three kinds of rule, and no others (DESIGN decision 15): archbot's own deterministic rules (``ARCH1xx``,
:mod:`app.static.rules`), the ruff rules it selects (``ruff:<code>``,
:mod:`app.static.ruff_adapter` and :mod:`app.static.ruff_help`), and one rule per category for
the model's findings (``archbot/<category>``). Pure data and string building; nothing here reads files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from app.review.models import Category, Severity
from app.static.ruff_adapter import RUFF_RULES
from app.static.ruff_help import RUFF_HELP
from app.static.rules import RULES

# Where archbot and docs/rules.md are published; pyproject.toml's [project.urls] says the same (a test checks).
PROJECT_URL = "https://github.com/archbot/archbot"
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"
RUFF_RULES_URL = "https://docs.astral.sh/ruff/rules/"
MODEL_RULE_PREFIX = "archbot/"
RUFF_RULE_PREFIX = "ruff:"


class RuleKind(StrEnum):
    """Who decides a rule's findings."""

    OWN = "archbot"  # archbot's own deterministic check
    RUFF = "ruff"  # a ruff rule archbot runs
    MODEL = "model"  # the model's review, one rule per category


@dataclass(frozen=True)
class RuleDoc:
    """One rule as code scanning and the docs show it. ``severity`` is None for model rules (each
    finding brings its own); the examples exist for archbot's own rules."""

    id: str
    kind: RuleKind
    name: str  # kebab-case; for ruff rules ruff's own name, the slug of its page
    category: Category
    severity: Severity | None
    short: str
    catches: str
    why: str
    safe: str
    help_uri: str
    unsafe_example: str | None = None
    safe_example: str | None = None

    @property
    def full(self) -> str:
        """What the rule flags and why it matters, in two or three sentences."""
        return f"{self.catches} {self.why}"

    @property
    def pascal_name(self) -> str:
        """``name`` in PascalCase, as SARIF's ``rule.name`` is usually written."""
        return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", self.name) if part)

    def help_text(self) -> str:
        """The help as plain text: what it catches, why it matters, the safe pattern, where to read more."""
        parts = [f"What it catches: {self.catches}", f"Why it matters: {self.why}", f"Safe pattern: {self.safe}"]
        if self.unsafe_example and self.safe_example:
            parts.append(f"Flagged:\n{_indent(self.unsafe_example)}")
            parts.append(f"Safe:\n{_indent(self.safe_example)}")
        parts.append(f"More: {self.help_uri}")
        return "\n\n".join(parts)

    def help_markdown(self) -> str:
        """The help as Markdown: the same sections, examples as code blocks, and a link to read more."""
        parts = [
            f"**What it catches.** {self.catches}",
            f"**Why it matters.** {self.why}",
            f"**Safe pattern.** {self.safe}",
        ]
        if self.unsafe_example and self.safe_example:
            parts.append(f"Flagged:\n\n```python\n{self.unsafe_example}\n```")
            parts.append(f"Safe:\n\n```python\n{self.safe_example}\n```")
        if self.kind is RuleKind.RUFF:
            parts.append(f"ruff's documentation of this rule: [`{self.name}`]({self.help_uri}).")
        return "\n\n".join(parts)


def _indent(code: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in code.split("\n"))


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to ``-``."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def rule_doc_uri(rule_id: str) -> str:
    """The address of a rule's entry in docs/rules.md (its heading is the rule id)."""
    return f"{RULES_DOC_URL}#{github_anchor(rule_id)}"


# --------------------------------------------------------------------------------------------------
# Model rules: what the model's review looks for in each category
# --------------------------------------------------------------------------------------------------

_MODEL_TEXT: dict[Category, tuple[str, str, str, str]] = {
    Category.SECURITY: (
        "Security problem found by archbot's model review",
        "Issues a reviewer finds by reading the change: untrusted input reaching SQL, shells, file paths, "
        "URLs or templates, broken authentication or authorization, secrets in code or logs, unsafe "
        "deserialization, and weakened TLS.",
        "Each of these lets someone outside the system read data, act as another user or run code.",
        "Treat every request value, header, file and message as untrusted: validate it against an "
        "allow-list, keep it out of code and queries (bound parameters, argument lists), check "
        "permissions on the server side, and load secrets from the environment or a secret store.",
    ),
    Category.CONCURRENCY: (
        "Concurrency problem found by archbot's model review",
        "Async and threading hazards in the change: blocking calls on the event loop, races on shared "
        "state, tasks that are lost or never awaited, locks held across `await`, cancellation that is "
        "swallowed, and work without backpressure.",
        "These fail under load and rarely in tests: stalls, lost updates, duplicate work and leaks that "
        "only appear with real traffic.",
        "Keep the event loop free of blocking work (async clients, `asyncio.to_thread`), run tasks in a "
        "`TaskGroup`, guard shared state with a lock or move it to a store with atomic operations, and "
        "bound concurrency with semaphores or queues.",
    ),
    Category.RELIABILITY: (
        "Reliability problem found by archbot's model review",
        "Failure handling in the change: calls without timeouts, retries that are unbounded or not "
        "idempotent, errors that are swallowed, resources that leak, and partial failures left unhandled.",
        "A dependency that is slow or down then takes this service down with it, or leaves data half written.",
        "Give every external call a timeout, retry only idempotent operations with backoff and a limit, "
        "close resources with context managers, and make failures visible (logs, metrics, errors to the "
        "caller).",
    ),
    Category.PERFORMANCE: (
        "Performance problem found by archbot's model review",
        "Work that grows badly with load or data: queries in loops (N+1), unbounded reads into memory, "
        "repeated expensive setup per request, missing pagination or batching, and hot paths that copy "
        "large data.",
        "It is invisible on test data and becomes latency, memory pressure and cost in production.",
        "Batch and paginate, stream large payloads, create clients and models once at startup, and "
        "measure the hot path before and after.",
    ),
    Category.OBSERVABILITY: (
        "Observability gap found by archbot's model review",
        "Changes that make failures hard to see or diagnose: errors logged without context, secrets or "
        "personal data in logs, missing metrics on new external calls or queues, and lost request or "
        "trace ids.",
        "When this code misbehaves in production, nobody will know, or the logs will leak what they should protect.",
        "Log structured events with identifiers and without secrets, count errors and latency of every "
        "external call, and propagate request and trace ids.",
    ),
    Category.MAINTAINABILITY: (
        "Maintainability problem found by archbot's model review",
        "Code that will be hard to change safely: duplicated logic, hidden global state, unclear "
        "ownership of resources, and interfaces that invite misuse.",
        "The next change to this code is likely to introduce a bug, because the rules it depends on are implicit.",
        "Make dependencies explicit (pass them in), keep one implementation of each rule, and give "
        "resources one owner.",
    ),
    Category.DESIGN: (
        "Design concern found by archbot's model review",
        "Architectural issues: responsibilities in the wrong layer, synchronous coupling where a queue or "
        "a cache is needed, state that cannot scale past one replica, and contracts that are not "
        "versioned.",
        "Such choices are cheap to change now and expensive once other code and data depend on them.",
        "Write down the constraint the design must meet (scale, latency, failure mode) and check the "
        "change against it; prefer stateless services, explicit contracts and asynchronous boundaries "
        "where load is uneven.",
    ),
}


def model_rule_id(category: Category) -> str:
    """The rule id of a model finding in ``category``."""
    return f"{MODEL_RULE_PREFIX}{category.value}"


def _build() -> dict[str, RuleDoc]:
    docs: dict[str, RuleDoc] = {}
    for rule in RULES:
        docs[rule.id] = RuleDoc(
            id=rule.id,
            kind=RuleKind.OWN,
            name=rule.name,
            category=rule.category,
            severity=rule.severity,
            short=rule.title,
            catches=rule.catches,
            why=rule.message,
            safe=rule.fix,
            help_uri=rule_doc_uri(rule.id),
            unsafe_example=rule.unsafe,
            safe_example=rule.safe,
        )
    for code in sorted(RUFF_RULES):
        known, text = RUFF_RULES[code], RUFF_HELP[code]
        rule_id = f"{RUFF_RULE_PREFIX}{code}"
        docs[rule_id] = RuleDoc(
            id=rule_id,
            kind=RuleKind.RUFF,
            name=text.name,
            category=known.category,
            severity=known.severity,
            short=text.catches,
            catches=text.catches,
            why=text.why,
            safe=text.safe,
            help_uri=f"{RUFF_RULES_URL}{text.name}/",
        )
    for category, (short, catches, why, safe) in _MODEL_TEXT.items():
        rule_id = model_rule_id(category)
        docs[rule_id] = RuleDoc(
            id=rule_id,
            kind=RuleKind.MODEL,
            name=f"model-review-{category.value}",
            category=category,
            severity=None,
            short=short,
            catches=catches,
            why=why,
            safe=safe,
            help_uri=rule_doc_uri(rule_id),
        )
    return docs


CATALOGUE: Mapping[str, RuleDoc] = MappingProxyType(_build())


def lookup(rule_id: str | None) -> RuleDoc | None:
    """The catalogue entry of ``rule_id``, or None when archbot has no such rule."""
    return CATALOGUE.get(rule_id) if rule_id else None


def model_rule(category: Category) -> RuleDoc:
    """The rule of model findings in ``category`` (every category has one)."""
    return CATALOGUE[model_rule_id(category)]
