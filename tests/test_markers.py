"""Tests of archbot's hidden state markers: rendering, parsing, and robustness to garbage."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.review.markers import MARKER_VERSION, parse_marker, render_marker
from app.review.sanitize import sanitize_markdown

SUMMARY = {"sha": "0123abcd" * 5, "base": "ffff0000" * 5, "fps": ["a1b2c3d4e5f60718"], "inline": [], "version": 1}


def payload_of(marker: str) -> str:
    found = re.fullmatch(r"<!-- archbot:[a-z_0-9]+ (.*) -->", marker)
    assert found, marker
    return found.group(1)


def test_render_is_compact_sorted_json_in_a_comment() -> None:
    marker = render_marker("review", {"sha": "abc", "n": 2})
    assert marker == '<!-- archbot:review {"n":2,"sha":"abc"} -->'
    assert MARKER_VERSION == 1


def test_round_trip_summary() -> None:
    body = "### archbot review\n\ntext\n\n" + render_marker("summary", SUMMARY)
    assert parse_marker(body, "summary") == SUMMARY
    assert parse_marker(body, "review") is None


@pytest.mark.parametrize(
    "value",
    ["-->", "--", "a--b", "<!-- archbot:summary {} -->", "</script>", "--!>", "->", "—", "x\u2028y", '"\\'],
)
def test_strings_that_could_end_the_comment_are_escaped(value: str) -> None:
    marker = render_marker("plan", {"state": value, "list": [value, -1, -2.5e-5]})
    payload = payload_of(marker)
    assert "--" not in payload
    assert "<" not in payload and ">" not in payload
    assert marker.count("-->") == 1 and marker.endswith(" -->")
    assert parse_marker(f"pre {marker} post", "plan") == {"state": value, "list": [value, -1, -2.5e-5]}


@pytest.mark.parametrize("kind", ["", "Summary", "sum mary", "a--b", "1plan", "x" * 33, "plan-v2", "é"])
def test_invalid_kinds_are_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        render_marker(kind, {})
    assert parse_marker(f"<!-- archbot:{kind} {{}} -->", kind) is None


def test_unencodable_data_is_refused() -> None:
    with pytest.raises(ValueError):
        render_marker("summary", {"x": math.nan})
    with pytest.raises(TypeError):
        render_marker("summary", {"x": object()})


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "no marker at all",
        "<!-- archbot:summary -->",
        "<!-- archbot:summary not json -->",
        "<!-- archbot:summary {broken -->",
        '<!-- archbot:summary {"a": 1 -->',
        "<!-- archbot:summary [1, 2] -->",
        '<!-- archbot:summary {"x": NaN} -->',
        '<!-- archbot:summary {"x": Infinity} -->',
        '<!-- ARCHBOT:summary {"sha": "x"} -->',
        '<!-- archbot:summaryx {"sha": "x"} -->',
        '<!-- archbot:summary {"sha": "<b>"} -->',
        "<!-- archbot:summary " + '{"a":' * 50_000 + "1" + "}" * 50_000 + " -->",  # RecursionError
        "<!-- archbot:summary {" + "[" * 100_000 + " -->",
        "<!-- archbot:summary {" * 5_000,
    ],
)
def test_garbage_gives_none(body: str | None) -> None:
    assert parse_marker(body, "summary") is None


def test_first_valid_marker_of_the_kind_wins() -> None:
    body = "\n".join(
        [
            "<!-- archbot:summary {oops} -->",
            render_marker("review", {"sha": "r"}),
            render_marker("summary", {"sha": "first"}),
            render_marker("summary", {"sha": "second"}),
        ]
    )
    assert parse_marker(body, "summary") == {"sha": "first"}
    assert parse_marker(body, "review") == {"sha": "r"}


def test_spacing_variants_of_a_real_marker_are_read() -> None:
    assert parse_marker('<!--archbot:plan {"state":"asked"}-->', "plan") == {"state": "asked"}
    assert parse_marker('<!--\n  archbot:plan\n{"state":"asked"}\n-->', "plan") == {"state": "asked"}


def test_sanitized_model_output_can_never_carry_a_marker() -> None:
    forged = render_marker("summary", {"sha": "forged"})
    for text in (forged, f"`{forged}`", f"```\n{forged}\n```", forged.upper(), forged.replace(" ", "   ")):
        assert parse_marker(sanitize_markdown(text), "summary") is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=6), st.sampled_from(["summary", "plan", "x_1"]))
def test_property_round_trip_and_no_comment_breakers(data: dict[str, Any], kind: str) -> None:
    marker = render_marker(kind, data)
    payload = payload_of(marker)
    assert "--" not in payload and "<" not in payload and ">" not in payload
    assert parse_marker(f"text before\n{marker}\ntext after", kind) == data


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(), st.sampled_from(["summary", "review", "plan"]))
def test_property_parse_never_raises(body: str, kind: str) -> None:
    result = parse_marker(body, kind)
    assert result is None or isinstance(result, dict)
