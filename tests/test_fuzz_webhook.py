"""Property-based fuzzing (hypothesis) of ``POST /webhook`` through the real FastAPI app and a real SQLite
store: random headers, bodies, encodings, signatures and event names, and the real fixture payloads (every
event GitHub documents) signed correctly but with fields removed or retyped. Property: never a 5xx, never an
unhandled exception, and only the documented answers (200 ping, 202, 400, 401, 413).

``FUZZ_EXAMPLES`` (default 300 here; 150 for the mutation test, whose examples reach the handlers) sets the
examples per property.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.handlers import build_router
from app.metrics import Metrics
from app.queue.sqlite import SQLiteJobQueue
from app.web import WebhookConfig, create_app
from app.webhooks import sign
from tests.webhook_helpers import SECRET, all_fixture_files

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MUTATIONS = settings(FUZZ, max_examples=max(EXAMPLES // 2, 10))
DOCUMENTED = {200, 202, 400, 401, 413}
MAX_BODY = 64 * 1024
FIXTURES: list[tuple[str, dict[str, Any]]] = [
    (path.parent.name, json.loads(path.read_text(encoding="utf-8"))) for path in all_fixture_files()
]
EVENTS = [*sorted({event for event, _ in FIXTURES}), "", "ping", "PULL_REQUEST", "pull_request ", "x" * 300, "é"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    queue = SQLiteJobQueue(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'archbot.db'}")
    app = create_app(
        config=WebhookConfig(secrets=(SECRET,), max_body_bytes=MAX_BODY),
        store=queue,
        router=build_router(),
        metrics=Metrics(),
    )
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client
        if test_client.portal is not None:
            test_client.portal.call(queue.close)


header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
random_headers = st.dictionaries(
    st.sampled_from(
        ["x-github-event", "x-github-delivery", "x-hub-signature-256", "x-hub-signature", "content-type", "x-junk"]
    ),
    header_text,
    max_size=6,
)
bodies = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=1024).map(lambda t: t.encode("utf-8")),
    st.text(max_size=256).map(lambda t: t.encode("utf-16")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
        max_leaves=10,
    ).map(lambda v: json.dumps(v).encode()),
    st.binary(min_size=MAX_BODY + 1, max_size=MAX_BODY + 10),
)


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> int:
    raw = {name: value.encode("utf-8") for name, value in headers.items()}  # non-ASCII goes out as UTF-8 bytes
    response = client.post("/webhook", content=body, headers=raw)
    event(f"HTTP {response.status_code}")  # the outcome mix, in --hypothesis-show-statistics
    return response.status_code


@FUZZ
@given(bodies, random_headers, st.sampled_from(EVENTS), st.sampled_from(["none", "valid", "random", "sha1", "case"]))
def test_random_requests_get_only_documented_answers(
    client: TestClient, body: bytes, headers: dict[str, str], event: str, signature: str
) -> None:
    headers = dict(headers)
    headers.setdefault("x-github-event", event)
    if signature == "valid":
        headers["x-hub-signature-256"] = sign(body, SECRET)
    elif signature == "case":
        headers["x-hub-signature-256"] = sign(body, SECRET).upper()
    elif signature == "sha1":
        headers["x-hub-signature-256"] = "sha1=" + sign(body, SECRET)[7:47]
    elif signature == "none":
        headers.pop("x-hub-signature-256", None)
    status = post(client, body, headers)
    assert status in DOCUMENTED, status
    if signature in ("none", "sha1", "random") and len(body) <= MAX_BODY:
        assert status == 401 or (signature == "random" and status != 500)


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.just(""),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of a JSON value (dict keys and list indexes), depth-first."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:5]):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated_fixture(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    event, original = draw(st.sampled_from(FIXTURES))
    payload = copy.deepcopy(original)
    paths = list(_paths(payload))
    for _ in range(draw(st.integers(1, 4))):
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = payload
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this path
    if draw(st.booleans()):
        payload.setdefault("installation", {"id": draw(st.integers(1, 10))})  # reach the handlers
    return draw(st.sampled_from([event, event, *EVENTS])), payload


@MUTATIONS
@given(mutated_fixture(), st.booleans())
def test_signed_real_payloads_with_fields_removed_or_retyped_never_5xx(
    client: TestClient, case: tuple[str, dict[str, Any]], top_level_list: bool
) -> None:
    event, payload = case
    body = json.dumps([payload] if top_level_list else payload).encode()
    if len(body) > MAX_BODY:
        return
    headers = {"x-github-event": event, "x-hub-signature-256": sign(body, SECRET), "content-type": "application/json"}
    status = post(client, body, headers)
    assert status in DOCUMENTED, (status, event)


def test_every_fixture_is_known_to_the_fuzzer() -> None:
    assert len(FIXTURES) > 200 and len({event for event, _ in FIXTURES}) > 50
    assert Path(all_fixture_files()[0]).is_file()
