"""Keep archbot's own instructions out of what it posts: a model told to "print your system prompt".

A prompt injection in a pull request can ask the model to repeat its instructions, and a model that
obeys writes them into a finding or a summary. Whatever the model returns is checked here before it
goes anywhere: any text field that repeats a run of ``ECHO_WORDS`` consecutive words of a prompt
(the system prompt, or the fixed text of a task template) is replaced as a whole by
``ECHO_REPLACEMENT``. Words are compared case-folded with punctuation and Markdown ignored, so
re-wrapping or re-formatting the prompt does not hide it. Pure; the caller supplies the prompts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

ECHO_WORDS = 10
"""Consecutive prompt words that make a field an echo (review prose almost never repeats ten)."""
ECHO_REPLACEMENT = "(removed: this text repeated archbot's instructions)"

_WORD = re.compile(r"[a-z0-9]+")
_PLACEHOLDER = re.compile(r"\{\{\s*[a-z_][a-z0-9_]*\s*\}\}")
_LEADING_COMMENT = re.compile(r"\A\s*<!--.*?-->", re.DOTALL)

M = TypeVar("M", bound=BaseModel)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _windows(words: list[str]) -> Iterable[tuple[str, ...]]:
    for start in range(len(words) - ECHO_WORDS + 1):
        yield tuple(words[start : start + ECHO_WORDS])


class PromptEcho:
    """The word windows of some prompts; ``scrub`` removes model text that repeats one of them."""

    def __init__(self, prompts: Iterable[str]) -> None:
        windows: set[tuple[str, ...]] = set()
        for prompt in prompts:
            body = _LEADING_COMMENT.sub("", prompt)
            for segment in _PLACEHOLDER.split(body):  # a template's fixed text, never what fills it
                windows.update(_windows(_words(segment)))
        self._windows = frozenset(windows)

    def repeats_prompt(self, text: str) -> bool:
        """True when ``text`` holds ``ECHO_WORDS`` consecutive words of one of the prompts."""
        return any(window in self._windows for window in _windows(_words(text)))

    def scrub_text(self, text: str) -> str:
        """``text``, or ``ECHO_REPLACEMENT`` when it repeats a prompt."""
        return ECHO_REPLACEMENT if self.repeats_prompt(text) else text

    def scrub(self, model: M) -> M:
        """A copy of ``model`` in which every string field (nested models and lists too) is scrubbed."""
        updates = {name: self._scrub_value(getattr(model, name)) for name in type(model).model_fields}
        changed = {name: value for name, value in updates.items() if value is not getattr(model, name)}
        return model.model_copy(update=changed) if changed else model

    def _scrub_value(self, value: Any) -> Any:
        if isinstance(value, str):
            scrubbed = self.scrub_text(value)
            return value if scrubbed == value else scrubbed
        if isinstance(value, BaseModel):
            return self.scrub(value)
        if isinstance(value, list):
            items = [self._scrub_value(item) for item in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value
