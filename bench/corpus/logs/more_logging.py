"""Audit logging in more places: Django middleware and views, FastAPI headers, an aiohttp route, a
Celery task, a Kafka consumer and a websocket, with the escaped, numeric and structured variants."""

import logging

import structlog
from aiohttp import web
from celery import shared_task
from django.http import HttpRequest, JsonResponse
from fastapi import FastAPI, Header, WebSocket
from kafka import KafkaConsumer

audit = logging.getLogger("audit")
slog = structlog.get_logger()
api = FastAPI()


def password_reset(request: HttpRequest) -> JsonResponse:
    email = request.POST.get("email", "")
    audit.info("password reset requested for %s", email)  # expect: log-injection
    return JsonResponse({"ok": True})


def password_reset_repr(request: HttpRequest) -> JsonResponse:
    email = request.POST.get("email", "")
    audit.info("password reset requested for %r", email)  # ok: log-injection
    return JsonResponse({"ok": True})


def search(request: HttpRequest) -> JsonResponse:
    audit.debug("search q=%s page=%d" % (request.GET.get("q", ""), int(request.GET.get("page", "1"))))  # expect: log-injection
    return JsonResponse({"results": []})


def search_counted(request: HttpRequest) -> JsonResponse:
    page = int(request.GET.get("page", "1"))
    audit.debug("search page=%d", page)  # ok: log-injection
    return JsonResponse({"results": []})


@api.get("/items")
async def items(user_agent: str = Header(default="")) -> dict:
    audit.info("items listed, agent=" + user_agent)  # ok: log-injection
    return {"items": []}


@api.get("/items/{category}")
async def items_in(category: str) -> dict:
    audit.info("items listed in " + category)  # expect: log-injection
    return {"items": []}


@api.get("/items/structured")
async def items_structured(user_agent: str = Header(default="")) -> dict:
    slog.info("items_listed", agent=user_agent)  # ok: log-injection
    return {"items": []}


async def rename(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    audit.warning("rename of {} requested".format(name))  # expect: log-injection
    return web.json_response({"ok": True})


async def rename_escaped(request: web.Request) -> web.Response:
    name = request.match_info["name"].encode("unicode_escape").decode("ascii")
    audit.warning("rename of %s requested", name)  # ok: log-injection
    return web.json_response({"ok": True})


@shared_task
def send_invoice(customer_ref: str) -> None:
    audit.info(f"sending invoice to {customer_ref}")  # expect: log-injection


@shared_task
def send_invoice_counted(count: int) -> None:
    audit.info("sending %d invoices", count)  # ok: log-injection


def consume_events(consumer: KafkaConsumer) -> None:
    for message in consumer:
        audit.error("bad event: %s", message.value)  # expect: log-injection


def consume_events_sized(consumer: KafkaConsumer) -> None:
    for message in consumer:
        audit.error("bad event: %d bytes at offset %d", len(message.value), message.offset)  # ok: log-injection


@api.websocket("/chat")
async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    text = await websocket.receive_text()
    audit.info("chat message: %s", text)  # expect: log-injection


@api.websocket("/chat/quiet")
async def chat_quiet(websocket: WebSocket) -> None:
    await websocket.accept()
    text = await websocket.receive_text()
    audit.info("chat message of %d characters", len(text))  # ok: log-injection


def startup() -> None:
    audit.info("service started")  # ok: log-injection
