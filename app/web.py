"""The FastAPI app: POST /webhook, /healthz, /readyz, /metrics. Built by ``create_app``; no globals."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import ClientDisconnect

from app.events import EventParseError, parse_event
from app.jobs import Job
from app.metrics import Metrics, action_label, event_label
from app.queue.base import DeliveryOutcome
from app.routing import HandlerContext, Mode, Router
from app.webhooks import BodyTooLarge, read_capped, signature_valid

UNAUTHORIZED = {"error": "invalid or missing X-Hub-Signature-256"}


class IntakeStore(Protocol):
    """What the receiver needs from the queue: durable delivery records, readiness and job counts."""

    async def accept_delivery(self, delivery_id: str, jobs: Sequence[Job]) -> DeliveryOutcome: ...

    async def ping(self) -> bool: ...

    async def counts(self) -> dict[str, int]: ...


BODY_TIMEOUT = 10.0  # seconds to receive a whole body (GitHub gives up on a delivery after 10 s anyway)
STORE_TIMEOUT = 0.8  # seconds the receiver waits for the store before answering 503 (GitHub's own limit: 10 s)


@dataclass(frozen=True)
class WebhookConfig:
    secrets: tuple[str, ...]
    max_body_bytes: int
    store_timeout: float = STORE_TIMEOUT
    body_timeout: float = BODY_TIMEOUT


@dataclass
class _Seen:
    """What the receiver learned about a delivery, for the metric labels and the log line."""

    action: str = ""
    repo: str = ""
    installation_id: int | None = None
    number: int | None = None


def _stamp(jobs: list[Job], seen: _Seen, metrics: Metrics) -> list[Job]:
    """Note the delivery's installation and number, and carry the trace context in its jobs: the trace
    crosses the queue (``app.tracing``)."""
    if not jobs:
        return jobs
    seen.installation_id, seen.number = jobs[0].installation_id, jobs[0].number
    carrier = metrics.tracer.carrier()
    return [job.model_copy(update={"trace": carrier}) for job in jobs] if carrier else jobs


def _span_fields(event_name: str, seen: _Seen, outcome: str) -> dict[str, str | int | None]:
    """The delivery span's identifiers (bounded event name; never a body)."""
    return {
        "github.event": event_label(event_name),
        "github.installation_id": seen.installation_id,
        "github.repository": seen.repo or None,
        "github.number": seen.number,
        "archbot.outcome": outcome,
    }


def _json(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status, content=body)


def create_app(
    *,
    config: WebhookConfig,
    store: IntakeStore,
    router: Router,
    metrics: Metrics,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """Build the web app around injected dependencies (tests pass a real SQLite store and fakes)."""
    app = FastAPI(title="archbot", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    log = structlog.get_logger("archbot.web")

    async def handle_webhook(request: Request) -> Response:
        started = time.perf_counter()
        event_name = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery", "")
        seen = _Seen()
        with metrics.tracer.span("webhook delivery", {"github.delivery_id": delivery[:64]}) as span:
            outcome, response = await _intake(request, event_name, delivery, seen)
            span.set(**_span_fields(event_name, seen, outcome))
        metrics.deliveries.labels(
            event=event_label(event_name), action=action_label(seen.action), outcome=outcome
        ).inc()
        metrics.ack_latency.observe(time.perf_counter() - started)
        log.info(
            "webhook",
            delivery_id=delivery[:64],
            gh_event=event_name[:64],
            action=seen.action,
            repo=seen.repo,
            outcome=outcome,
        )
        return response

    async def _intake(request: Request, event_name: str, delivery: str, seen: _Seen) -> tuple[str, Response]:
        body = await _receive(request, config)
        if not isinstance(body, bytes):
            return body
        if not signature_valid(body, request.headers.get("x-hub-signature-256"), config.secrets):
            return "bad_signature", _json(401, UNAUTHORIZED)
        try:
            payload = json.loads(body)
            event = parse_event(event_name, payload)
        except (ValueError, EventParseError):
            return "malformed", _json(400, {"error": "malformed JSON payload"})
        if not event_name:
            return "malformed", _json(400, {"error": "missing X-GitHub-Event"})
        seen.action = (event.action or "")[:64]
        seen.repo = event.repository.full_name[:140] if event.repository else ""
        if event_name == "ping":
            return "ping", JSONResponse({"ok": True})
        if not router.handles(event.name, event.action):
            return "ignored", _json(202, {"ok": True, "jobs": 0})
        if event.installation is None:
            # A repository webhook, not the App: nothing to authenticate as (DESIGN step 1).
            return "no_installation", _json(202, {"ok": True, "jobs": 0})
        delivery_id = delivery or "body-" + hashlib.sha256(body).hexdigest()[:32]
        jobs = _stamp(
            await router.dispatch(event, HandlerContext(mode=Mode.APP, delivery_id=delivery_id)), seen, metrics
        )
        if not jobs:
            return "no_job", _json(202, {"ok": True, "jobs": 0})
        try:
            async with asyncio.timeout(config.store_timeout):
                outcome = await store.accept_delivery(delivery_id, jobs)
        # locked past its timeout, read-only, gone: nothing recorded, GitHub may redeliver. No traceback in
        # the log: this answer must stay fast, and a traceback's frames hold the raw payload.
        except Exception as exc:  # noqa: BLE001 - answered 503 and logged by type and message
            log.warning(
                "store_unavailable", delivery_id=delivery_id[:64], error=type(exc).__name__, detail=str(exc)[:160]
            )
            return "store_unavailable", _json(503, {"error": "store unavailable, retry later"})
        if outcome.duplicate:
            return "duplicate", _json(202, {"ok": True, "duplicate": True})
        return "enqueued", _json(202, {"ok": True, "jobs": len(jobs)})

    async def healthz() -> Response:
        return _json(200, {"status": "ok"})

    async def readyz() -> Response:
        try:
            ready = await store.ping()
        except Exception:  # any store failure means "not ready", and is logged
            log.warning("readyz_store_unreachable", exc_info=True)
            ready = False
        if not ready:
            return _json(503, {"status": "store unreachable"})
        return _json(200, {"status": "ready"})

    async def metrics_endpoint() -> Response:
        return PlainTextResponse(await metrics.render(store.counts), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/webhook", handle_webhook, methods=["POST"])
    app.add_api_route("/healthz", healthz, methods=["GET"])
    app.add_api_route("/readyz", readyz, methods=["GET"])
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"])
    return app


def _was_accepted(outcome: Any) -> bool:
    """Queue backends answer with a bool or an object carrying ``accepted``."""
    if isinstance(outcome, bool):
        return outcome
    return bool(getattr(outcome, "accepted", outcome))


async def _receive(request: Request, config: WebhookConfig) -> bytes | tuple[str, Response]:
    """The body, or the outcome and answer when it is too large, too slow (a 1 byte/s client cannot hold
    a connection past ``body_timeout``) or abandoned by the client."""
    try:
        async with asyncio.timeout(config.body_timeout):
            return await read_capped(_stream(request), request.headers.get("content-length"), config.max_body_bytes)
    except BodyTooLarge:
        return "too_large", _json(413, {"error": "payload too large"})
    except TimeoutError:
        return "too_slow", _json(408, {"error": "request body not received in time"})
    except ClientDisconnect:
        return "disconnected", _json(400, {"error": "client disconnected"})


async def _stream(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk
