"""Stable finding identity: category/rule + path + normalised offending code, never a line number."""

from __future__ import annotations

import hashlib
import io
import re
import tokenize

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


def fingerprint(kind: str, path: str | None, code: str, title: str = "") -> str:
    """A 16-hex-digit identity for a finding.

    ``kind`` is the rule id for deterministic findings or the category for model findings; ``code`` is
    the offending code (the lines the finding points at). Without code, the normalised title stands in.
    """
    body = normalize_code(code) if code.strip() else "title:" + normalize_title(title)
    raw = "\x1f".join((kind, path or "", body))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
