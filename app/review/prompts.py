"""Prompt templates: find ``prompts/*.md``, render them strictly, and fence untrusted text.

Template syntax
---------------
- A placeholder is ``{{ name }}``: two braces, optional spaces, and a lower-case identifier
  (``[a-z_][a-z0-9_]*``). Nothing else is supported: no filters, no expressions, no loops.
- Rendering is strict. A placeholder without a value, and a value that no placeholder uses, both
  raise :class:`PromptError` naming the variable(s).
- Rendering is a single pass: substituted text is never scanned again, so a value that itself
  contains ``{{ x }}`` reaches the model literally.
- Any other ``{{`` or ``}}`` in a template is an error, so a typo such as ``{{ pr title }}`` fails
  loudly instead of reaching the model.
- A template may start with one HTML comment (``<!-- ... -->``) that documents it for maintainers
  (purpose, variables). It is stripped and never sent to the model.

Untrusted text
--------------
Everything a user, a repository or a pull request wrote goes to the model inside a block made by
:func:`untrusted`::

    <untrusted-data source="diff" id="3f9c...">
    ...
    </untrusted-data id="3f9c...">

The id is a random nonce (:func:`new_nonce`), new for every render, so the data cannot guess it;
in addition, any occurrence of the closing delimiter is removed from the data and every other
``<untrusted-data`` / ``</untrusted-data`` tag in it is defused (``<`` becomes ``&lt;``).
:func:`render_task` does the whole job: one nonce, every data variable fenced, strict rendering.

Where the templates live
------------------------
In a source checkout (or an editable install) they are the repository's top-level ``prompts/``
directory, next to ``app/``. An installed wheel carries them as package data in ``app/_prompts``
(see the project's packaging configuration); that location is tried first.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path

PROMPT_NAMES: tuple[str, ...] = ("persona", "review_pr", "review_design", "clarify", "plan", "read_tools", "answer")
"""Every prompt archbot ships; a test renders each of them."""

NONCE_VARIABLE = "nonce"
"""The variable through which :func:`render_task` passes the nonce of the data blocks."""

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../app
_PACKAGED_PROMPTS = _PACKAGE_DIR / "_prompts"  # inside an installed wheel
_CHECKOUT_PROMPTS = _PACKAGE_DIR.parent / "prompts"  # source checkout / editable install
_MARKER_FILE = "persona.md"

_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_STRAY_BRACES_RE = re.compile(r"\{\{|\}\}")
_LEADING_COMMENT_RE = re.compile(r"\A\s*<!--.*?-->[ \t]*\n?", re.DOTALL)
_SOURCE_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_NONCE_RE = re.compile(r"[0-9a-f]{16,64}")
_DELIMITER_TAG_RE = re.compile(r"<(\s*/?\s*untrusted-data)", re.IGNORECASE)


class PromptError(Exception):
    """A prompt cannot be found or rendered: unknown name, missing file, bad template or variables."""


def prompts_root(prompts_dir: Path | None = None) -> Path:
    """The directory holding the templates: ``prompts_dir`` if given, else the packaged or checkout copy."""
    if prompts_dir is not None:
        if not prompts_dir.is_dir():
            raise PromptError(f"prompts directory not found: {prompts_dir}")
        return prompts_dir
    for candidate in (_PACKAGED_PROMPTS, _CHECKOUT_PROMPTS):
        if (candidate / _MARKER_FILE).is_file():
            return candidate
    raise PromptError(f"no prompts directory found (looked in {_PACKAGED_PROMPTS} and {_CHECKOUT_PROMPTS})")


def load_prompt(name: str, prompts_dir: Path | None = None) -> str:
    """The template ``<name>.md`` with its leading maintainer comment stripped, not yet rendered."""
    if not _NAME_RE.fullmatch(name):
        raise PromptError(f"invalid prompt name: {name!r}")
    path = prompts_root(prompts_dir) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"prompt {name!r} not found at {path}") from None
    return _LEADING_COMMENT_RE.sub("", text, count=1)


def _placeholders(name: str, template: str) -> frozenset[str]:
    """The variable names a template uses; raises on any brace pair that is not a valid placeholder."""
    position = 0
    while (braces := _STRAY_BRACES_RE.search(template, position)) is not None:
        placeholder = _PLACEHOLDER_RE.match(template, braces.start())
        if placeholder is None:
            line = template.count("\n", 0, braces.start()) + 1
            raise PromptError(f"prompt {name!r}: malformed placeholder near line {line}")
        position = placeholder.end()
    return frozenset(match.group(1) for match in _PLACEHOLDER_RE.finditer(template))


def template_variables(name: str, prompts_dir: Path | None = None) -> frozenset[str]:
    """The names of the variables the template ``name`` needs."""
    return _placeholders(name, load_prompt(name, prompts_dir))


def render_prompt(name: str, variables: Mapping[str, str], *, prompts_dir: Path | None = None) -> str:
    """Render ``<name>.md`` with exactly ``variables``; PromptError on a missing or an unused variable."""
    template = load_prompt(name, prompts_dir)
    needed = _placeholders(name, template)
    missing = sorted(needed - variables.keys())
    unused = sorted(variables.keys() - needed)
    if missing or unused:
        parts = []
        if missing:
            parts.append(f"missing variable(s): {', '.join(missing)}")
        if unused:
            parts.append(f"unused variable(s): {', '.join(unused)}")
        raise PromptError(f"prompt {name!r}: {'; '.join(parts)}")
    for key, value in variables.items():
        if not isinstance(value, str):
            raise PromptError(f"prompt {name!r}: variable {key!r} must be a str, not {type(value).__name__}")
    return _PLACEHOLDER_RE.sub(lambda match: variables[match.group(1)], template)


def new_nonce() -> str:
    """A fresh random id for the data delimiters of one render (128 bits, hex)."""
    return secrets.token_hex(16)


def _closing_delimiter(nonce: str) -> str:
    """The line that ends a data block with this nonce."""
    return f'</untrusted-data id="{nonce}">'


def untrusted(source: str, text: str, nonce: str) -> str:
    """Fence ``text`` as untrusted data from ``source`` (e.g. "diff", "pull-request", "config").

    Any copy of this block's closing delimiter is removed from ``text`` and every other
    ``<untrusted-data``-like tag in it is defused, so the data can neither end its block early nor
    open a block of its own.
    """
    if not _SOURCE_RE.fullmatch(source):
        raise ValueError(f"invalid untrusted-data source: {source!r}")
    if not _NONCE_RE.fullmatch(nonce):
        raise ValueError("invalid nonce: expected 16 to 64 lower-case hex digits")
    closing = _closing_delimiter(nonce)
    body = text.replace(closing, "")
    body = _DELIMITER_TAG_RE.sub(r"&lt;\1", body)
    return f'<untrusted-data source="{source}" id="{nonce}">\n{body.rstrip(chr(10))}\n{closing}'


def render_task(
    name: str,
    *,
    variables: Mapping[str, str],
    data: Mapping[str, tuple[str, str]],
    nonce: str | None = None,
    prompts_dir: Path | None = None,
) -> str:
    """Render a task prompt: ``data`` maps a variable to ``(source, text)`` and is fenced as untrusted.

    One nonce (a fresh one unless given) serves every block and fills the ``nonce`` variable (when
    there is any data).
    ``variables`` holds the trusted values (numbers, limits); it must not contain ``nonce`` or a key
    that is also in ``data``.
    """
    overlap = sorted((variables.keys() & data.keys()) | ((variables.keys() | data.keys()) & {NONCE_VARIABLE}))
    if overlap:
        raise PromptError(f"prompt {name!r}: variable(s) given twice or reserved: {', '.join(overlap)}")
    used_nonce = nonce if nonce is not None else new_nonce()
    merged: dict[str, str] = dict(variables)
    if data:
        merged[NONCE_VARIABLE] = used_nonce
    for key, (source, text) in data.items():
        merged[key] = untrusted(source, text, used_nonce)
    return render_prompt(name, merged, prompts_dir=prompts_dir)
