"""The deterministic engine: ruff (our selection), archbot's own AST rules and secret detection.

One module per concern: ``engine`` (analyse changed files, keep findings on changed lines),
``checks`` (the own AST rules), ``facts`` (what a module defines and imports), ``names`` (the
catalogue of blocking calls, clients, sinks and sanitizers), ``rules`` (rule metadata),
``ruff_adapter`` (running ruff isolated), ``ruff_help`` and ``rule_catalogue`` (rule help text for
SARIF, ``archbot rules`` and docs/rules.md).
"""

from app.static.engine import ChangedPython, StaticReport, StaticRule, analyse, own_rules

__all__ = ["ChangedPython", "StaticReport", "StaticRule", "analyse", "own_rules"]
