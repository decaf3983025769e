"""Stable finding identity, never a line number.

Deterministic findings: rule + path + enclosing scope (``Service.handle``, ``<module>``) + normalised
offending code + the occurrence of that code in its scope (:func:`fingerprint` with ``scope``), so two
identical calls in two functions are two findings while moving code keeps its identity. Model findings:
category (or confirmed rule) + path + normalised code (or title). The form without a scope is also what
archbot wrote into its comments before scopes existed (the *legacy* form): :func:`recognised` matches a
finding against fingerprints read back from markers in either form.
"""

from __future__ import annotations

import hashlib
import io
import re
import tokenize
from collections.abc import Collection, Iterable
from typing import Protocol

_WS = re.compile(r"\s+")


def _strip_python_comments(code: str) -> str:
    """Drop ``#`` comments using the tokenizer, so ``'#'`` inside strings survives."""
    try:
        tokens = [tok for tok in tokenize.generate_tokens(io.StringIO(code).readline) if tok.type != tokenize.COMMENT]
        return tokenize.untokenize(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # A fragment of a larger statement may not tokenize; a plain cut is good enough there.
        return "\n".join(line.split("#", 1)[0] if "#" in line else line for line in code.splitlines())


def normalize_code(code: str) -> str:
    """Normalise a code fragment: comments dropped, all whitespace removed."""
    return _WS.sub("", _strip_python_comments(code))


def normalize_title(title: str) -> str:
    """Lower-case, alphanumerics only: the fallback identity when a finding has no code."""
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


def fingerprint(
    kind: str, path: str | None, code: str, title: str = "", *, scope: str | None = None, occurrence: int = 0
) -> str:
    """A 16-hex-digit identity for a finding.

    ``kind`` is the rule id for deterministic findings or the category for model findings; ``code`` is
    the offending code (the lines the finding points at). Without code, the normalised title stands in.
    With ``scope`` (the enclosing definition's qualified name) the identity also holds the scope and the
    ``occurrence`` of that code in it; without, it is the legacy form (and the model findings' form).
    """
    body = normalize_code(code) if code.strip() else "title:" + normalize_title(title)
    parts = (kind, path or "", body) if scope is None else (kind, path or "", body, "scope:" + scope, str(occurrence))
    raw = "\x1f".join(parts)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


class Identified(Protocol):
    """What :func:`recognised` needs of a finding."""

    @property
    def fingerprint(self) -> str: ...

    @property
    def legacy_fingerprint(self) -> str | None: ...


def recognised(findings: Iterable[Identified], known: Collection[str]) -> set[str]:
    """The fingerprints of ``findings`` that ``known`` (read back from markers) already names.

    A finding is known by its own fingerprint, or by its legacy one (written by a version without
    scopes). A legacy fingerprint names one place only, the one the old version reported: of findings
    sharing it (identical code in two scopes, which the old version merged into one), only the first in
    ``findings``' order takes it, so the other places still count as new.
    """
    found: set[str] = set()
    claimed: set[str] = set()
    for finding in findings:
        legacy = finding.legacy_fingerprint
        by_legacy = legacy is not None and legacy in known and legacy not in claimed
        if finding.fingerprint in known or by_legacy:
            found.add(finding.fingerprint)
        if legacy is not None:
            claimed.add(legacy)
    return found


def all_fingerprints(findings: Iterable[Identified]) -> set[str]:
    """Every identity the findings answer to, current and legacy (for "is this old thread's finding gone")."""
    out: set[str] = set()
    for finding in findings:
        out.add(finding.fingerprint)
        if finding.legacy_fingerprint is not None:
            out.add(finding.legacy_fingerprint)
    return out
