"""The webhook receiver driven through the real FastAPI app with signed requests and a real SQLite queue."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.handlers import build_router
from app.metrics import Metrics
from app.queue.sqlite import SQLiteJobQueue
from app.web import WebhookConfig, create_app
from tests.webhook_helpers import SECRET, all_fixture_files, load_payload, signed_headers

PREVIOUS = "previous-secret"


@pytest.fixture
async def queue(tmp_path: Path) -> AsyncIterator[SQLiteJobQueue]:
    q = SQLiteJobQueue(f"sqlite:///{tmp_path / 'archbot.db'}")
    yield q
    await q.close()


@pytest.fixture
async def client(queue: SQLiteJobQueue) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        config=WebhookConfig(secrets=(SECRET, PREVIOUS), max_body_bytes=1024 * 1024),
        store=queue,
        router=build_router(),
        metrics=Metrics(),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://archbot.test") as c:
        yield c


def _body(payload: object) -> bytes:
    return json.dumps(payload).encode()


async def test_good_signature_enqueues_a_review(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    body = _body(load_payload("pull_request", "opened.payload.json"))
    r = await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
    assert r.status_code == 202
    assert r.json() == {"ok": True, "jobs": 1}
    counts = await queue.counts()
    assert counts["queued"] == 1
    record = await queue.find("review_pr:Codertocat/Hello-World#2@ec26c3e57ca3a959ca5aad62de7213c562f8c821:incr")
    assert record is not None and record.job.installation_id == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        "sha1=" + hmac.new(SECRET.encode(), b"x", hashlib.sha1).hexdigest(),
        "sha256=zzzz",
        "sha256=\u00e9\u00e9",
        "garbage",
    ],
)
async def test_bad_signatures_get_a_fixed_401(
    client: httpx.AsyncClient, queue: SQLiteJobQueue, signature: str | None
) -> None:
    body = _body(load_payload("pull_request", "opened.payload.json"))
    headers = signed_headers(body, "pull_request")
    del headers["x-hub-signature-256"]
    raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
    if signature is not None:
        raw_headers.append((b"x-hub-signature-256", signature.encode("utf-8")))
    r = await client.post("/webhook", content=body, headers=raw_headers)
    assert r.status_code == 401
    assert r.json() == {"error": "invalid or missing X-Hub-Signature-256"}
    assert "Codertocat" not in r.text
    assert (await queue.counts())["queued"] == 0


async def test_valid_sha1_signature_is_rejected(client: httpx.AsyncClient) -> None:
    body = _body(load_payload("ping", "payload.json"))
    headers = signed_headers(body, "ping")
    headers["x-hub-signature-256"] = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert (await client.post("/webhook", content=body, headers=headers)).status_code == 401


async def test_signature_over_other_bytes_is_rejected(client: httpx.AsyncClient) -> None:
    payload = load_payload("ping", "payload.json")
    body = _body(payload)
    headers = signed_headers(body, "ping")
    reformatted = json.dumps(payload, indent=2).encode()  # same JSON, different raw bytes
    assert (await client.post("/webhook", content=reformatted, headers=headers)).status_code == 401


async def test_previous_secret_is_accepted_during_rotation(client: httpx.AsyncClient) -> None:
    body = _body(load_payload("ping", "payload.json"))
    r = await client.post("/webhook", content=body, headers=signed_headers(body, "ping", secret=PREVIOUS))
    assert r.status_code == 200
    r = await client.post("/webhook", content=body, headers=signed_headers(body, "ping", secret="other"))
    assert r.status_code == 401


async def test_ping_answers_200(client: httpx.AsyncClient) -> None:
    body = _body(load_payload("ping", "payload.json"))
    r = await client.post("/webhook", content=body, headers=signed_headers(body, "ping"))
    assert r.status_code == 200


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    for body in (b"{not json", b"[1, 2]", b'"a string"'):
        r = await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
        assert r.status_code == 400, body


async def test_declared_oversize_body_is_413_before_reading(client: httpx.AsyncClient) -> None:
    body = b"{}"
    headers = signed_headers(body, "push") | {"content-length": str(2 * 1024 * 1024)}
    r = await client.post("/webhook", content=body, headers=headers)
    assert r.status_code == 413


async def test_streamed_oversize_body_is_413(client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(64):  # 4 MiB in 64 KiB pieces, no Content-Length
            sent += 1
            yield b" " * 65536

    headers = {"x-github-event": "push", "x-hub-signature-256": "sha256=" + "0" * 64}
    r = await client.post("/webhook", content=chunks(), headers=headers)
    assert r.status_code == 413


async def test_unknown_event_and_action_are_202_without_work(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    for event, name in (("star", "created.payload.json"), ("pull_request", "closed.payload.json")):
        body = _body(load_payload(event, name))
        r = await client.post("/webhook", content=body, headers=signed_headers(body, event))
        assert r.status_code == 202
    assert sum((await queue.counts()).values()) == 0


async def test_event_without_installation_makes_no_job(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    payload = load_payload("pull_request", "opened.payload.json")
    del payload["installation"]
    body = _body(payload)
    r = await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
    assert r.status_code == 202
    assert sum((await queue.counts()).values()) == 0


async def test_redelivery_creates_no_second_job(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    payload = load_payload("pull_request", "synchronize.payload.json")
    payload["installation"] = {"id": 7}
    body = _body(payload)
    headers = signed_headers(body, "pull_request", delivery="delivery-1")
    first = await client.post("/webhook", content=body, headers=headers)
    second = await client.post("/webhook", content=body, headers=headers)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["duplicate"] is True
    assert (await queue.counts())["queued"] == 1


async def test_concurrent_duplicate_deliveries_make_one_job(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    body = _body(load_payload("pull_request", "opened.payload.json"))
    headers = signed_headers(body, "pull_request", delivery="same-id")
    answers = await asyncio.gather(*(client.post("/webhook", content=body, headers=headers) for _ in range(20)))
    assert {a.status_code for a in answers} == {202}
    assert sum(1 for a in answers if a.json().get("jobs") == 1) == 1
    assert (await queue.counts())["queued"] == 1


async def test_bot_comment_and_edit_do_not_trigger(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    created = load_payload("issue_comment", "created.with-installation.payload.json")
    created["comment"]["body"] = "/plan"
    created["comment"]["user"]["type"] = "Bot"
    edited = load_payload("issue_comment", "edited.payload.json")
    edited["comment"]["body"] = "/plan"
    edited["installation"] = {"id": 1}
    for event, payload in (("issue_comment", created), ("issue_comment", edited)):
        body = _body(payload)
        assert (await client.post("/webhook", content=body, headers=signed_headers(body, event))).status_code == 202
    assert sum((await queue.counts()).values()) == 0


async def test_human_command_is_enqueued(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    payload = load_payload("issue_comment", "created.with-installation.payload.json")
    payload["comment"]["body"] = "/plan --now\nplease"
    body = _body(payload)
    r = await client.post("/webhook", content=body, headers=signed_headers(body, "issue_comment"))
    assert r.json() == {"ok": True, "jobs": 1}


async def test_every_real_payload_is_answered_without_5xx(client: httpx.AsyncClient) -> None:
    files = all_fixture_files()
    assert len(files) == 273
    statuses: dict[int, int] = {}
    for path in files:
        body = path.read_bytes()
        r = await client.post("/webhook", content=body, headers=signed_headers(body, path.parent.name))
        assert r.status_code < 500, path
        assert r.status_code in (200, 202), (path, r.status_code, r.text)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    assert statuses[200] >= 1  # ping


async def test_health_ready_and_metrics(client: httpx.AsyncClient, queue: SQLiteJobQueue) -> None:
    body = _body(load_payload("pull_request", "opened.payload.json"))
    await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    text = (await client.get("/metrics")).text
    assert 'archbot_webhook_deliveries_total{action="opened",event="pull_request",outcome="enqueued"} 1.0' in text
    assert 'archbot_jobs{state="queued"} 1.0' in text
    assert "archbot_webhook_ack_seconds_bucket" in text
    await queue.close()
    assert (await client.get("/readyz")).status_code == 503


async def test_log_line_names_delivery_event_and_repo_but_never_the_body(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = load_payload("pull_request", "opened.payload.json")
    payload["pull_request"]["body"] = "SECRET-BODY-TEXT"
    body = _body(payload)
    await client.post("/webhook", content=body, headers=signed_headers(body, "pull_request", delivery="dlv-42"))
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "dlv-42" in text and "Codertocat/Hello-World" in text and "pull_request" in text
    assert "SECRET-BODY-TEXT" not in text
