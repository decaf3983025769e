"""archbot's hidden state inside its own comments: ``<!-- archbot:<kind> <json> -->`` markers.

A marker carries what a later run needs (the last reviewed sha, the fingerprints already posted).
Whether a marker can be *trusted* depends on who wrote the comment; that decision belongs to the
caller (see DESIGN.md, "State lives in GitHub"). This module only writes and reads the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MARKER_VERSION = 1

_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
# A JSON string literal in compact ``json.dumps`` output (which escapes every quote and backslash).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# Characters that could end or confuse an HTML comment, escaped inside JSON strings. Outside
# strings, compact JSON only has "-" as a number's sign or exponent, always followed by a digit.
_COMMENT_UNSAFE = {"-": "\\u002d", "<": "\\u003c", ">": "\\u003e", "!": "\\u0021"}
# The payload of a marker written here never contains "<" or ">", so a scan stops at the next tag.
_MARKER = re.compile(r"<!--\s*archbot:(?P<kind>[a-z][a-z0-9_]{0,31})\s+(?P<payload>\{[^<>]*?\})\s*-->")


def render_marker(kind: str, data: Mapping[str, Any]) -> str:
    """``<!-- archbot:{kind} {compact json} -->``, safe to embed in any Markdown comment body.

    The JSON never contains ``--``, ``<``, ``>`` or ``!`` (those are ``\\u`` escapes inside strings),
    so the marker cannot be ended early or smuggle markup. Raises ``ValueError`` for a kind that is not
    ``[a-z][a-z0-9_]*`` (at most 32 characters) or data that is not finite JSON, and ``TypeError``
    for values JSON cannot encode.
    """
    if not _KIND.fullmatch(kind):
        raise ValueError(f"invalid marker kind: {kind!r}")
    payload = json.dumps(dict(data), ensure_ascii=True, allow_nan=False, separators=(",", ":"), sort_keys=True)
    payload = _JSON_STRING.sub(lambda m: _escape_string_literal(m.group()), payload)
    return f"<!-- archbot:{kind} {payload} -->"


def _escape_string_literal(literal: str) -> str:
    # Every character to escape is ASCII punctuation that json.dumps leaves as is, so a plain
    # per-character replacement cannot touch an existing escape sequence.
    return "".join(_COMMENT_UNSAFE.get(char, char) for char in literal)


def parse_marker(body: str | None, kind: str) -> dict[str, Any] | None:
    """The data of the first well-formed marker of ``kind`` in ``body``, or ``None``.

    Anything else (no marker, another kind, broken JSON, JSON that is not an object, NaN) is skipped,
    never raised.
    """
    if not body or not _KIND.fullmatch(kind):
        return None
    for found in _MARKER.finditer(body):
        if found.group("kind") != kind:
            continue
        try:
            data = json.loads(found.group("payload"), parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            return data
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number in marker: {name}")
