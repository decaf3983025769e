"""The prompt-echo guard: model text that repeats archbot's instructions never leaves the model client."""

from __future__ import annotations

from app.review.models import ModelFinding, ModelReview
from app.review.prompt_echo import ECHO_REPLACEMENT, PromptEcho
from app.review.prompts import PROMPT_NAMES, load_prompt

PERSONA = load_prompt("persona")


def guard() -> PromptEcho:
    return PromptEcho([PERSONA, *(load_prompt(name) for name in PROMPT_NAMES)])


def finding(rationale: str) -> ModelFinding:
    return ModelFinding.model_validate(
        {
            "path": "a.py",
            "line": 1,
            "severity": "high",
            "category": "security",
            "title": "t" * 5,
            "rationale": rationale,
        }
    )


def test_a_rewrapped_excerpt_of_the_system_prompt_is_caught() -> None:
    sentence = " ".join(PERSONA.split("\n\n")[1].split())  # the first paragraph, one line, re-spaced
    assert guard().repeats_prompt(f"As instructed: **{sentence.upper()}**")
    assert guard().scrub_text(sentence) == ECHO_REPLACEMENT


def test_fixed_template_text_is_caught_but_not_what_fills_a_placeholder() -> None:
    echo = PromptEcho(["Intro words one two three four five six seven eight nine. {{ chunk }} trailer"])
    assert echo.repeats_prompt("intro words one two three four five six seven eight nine")
    assert not echo.repeats_prompt("nine chunk trailer")  # windows never span a placeholder


def test_ordinary_review_prose_passes() -> None:
    text = "The task is created and never awaited; keep a reference and await it on shutdown."
    assert guard().scrub_text(text) == text


def test_scrub_walks_nested_models_and_keeps_clean_ones_identical() -> None:
    echo = guard()
    clean = ModelReview(summary="Adds a cache.", findings=[finding("Keep a reference to the task.")])
    assert echo.scrub(clean) is clean
    leaked = " ".join(PERSONA.split())[:600]
    dirty = ModelReview(summary=leaked, findings=[finding("fine"), finding(leaked)])
    scrubbed = echo.scrub(dirty)
    assert scrubbed.summary == ECHO_REPLACEMENT
    assert [f.rationale for f in scrubbed.findings] == ["fine", ECHO_REPLACEMENT]
    assert scrubbed.findings[0] is dirty.findings[0]
