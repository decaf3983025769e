"""Audit and access logging in Flask, Django, FastAPI, aiohttp handlers and a Celery task."""

import logging

import structlog
from aiohttp import web
from celery import shared_task
from django.http import HttpRequest, JsonResponse
from fastapi import FastAPI, Header
from flask import Flask, request

logger = logging.getLogger("audit")
log = structlog.get_logger()
app = Flask(__name__)
api = FastAPI()


def clean(value: str) -> str:
    return value.replace("\r", "\\r").replace("\n", "\\n")


@app.post("/login")
def login():
    username = request.form["username"]
    logger.warning(f"failed login for {username}")  # expect: log-injection
    return {"ok": False}, 401


@app.post("/login/args")
def login_args():
    username = request.form["username"]
    logger.warning("failed login for %s", username)  # expect: log-injection
    return {"ok": False}, 401


@app.post("/login/repr")
def login_repr():
    username = request.form["username"]
    logger.warning("failed login for %r", username)  # ok: log-injection
    return {"ok": False}, 401


@app.post("/login/cleaned")
def login_cleaned():
    username = clean(request.form["username"])
    logger.warning("failed login for %s", username)  # ok: log-injection
    return {"ok": False}, 401


@app.post("/login/structured")
def login_structured():
    log.warning("login_failed", username=request.form["username"])  # ok: log-injection
    return {"ok": False}, 401


@app.get("/search")
def search():
    app.logger.info("search from " + request.headers.get("User-Agent", "") + ": " + request.args.get("q", ""))  # expect: log-injection
    return {"results": []}


@app.get("/search/count")
def search_count():
    page = int(request.args.get("page", "1"))
    app.logger.info("search page %d", page)  # ok: log-injection
    return {"results": []}


def django_download(request: HttpRequest, name: str) -> JsonResponse:
    logger.info("download of %s requested by %s", name, request.GET.get("ref"))  # expect: log-injection
    return JsonResponse({"ok": True})


def django_download_ids(request: HttpRequest, doc_id: int) -> JsonResponse:
    logger.info("download of document %d by user %d", doc_id, request.user.id)  # ok: log-injection
    return JsonResponse({"ok": True})


@api.get("/items")
async def items(x_client: str = Header("unknown")) -> list[str]:
    logging.info("items listed by client %s", x_client)  # ok: log-injection
    return []


@api.get("/items/escaped")
async def items_escaped(x_client: str = Header("unknown")) -> list[str]:
    logging.info("items listed by client %s", x_client.encode("unicode_escape").decode("ascii"))  # ok: log-injection
    return []


async def aiohttp_webhook(request: web.Request) -> web.Response:
    event = request.match_info["event"]
    body = await request.text()
    logger.error("webhook %s rejected: %s", event, body)  # expect: log-injection
    return web.json_response({"ok": False}, status=400)


async def aiohttp_webhook_counted(request: web.Request) -> web.Response:
    body = await request.read()
    logger.error("webhook rejected: %d bytes", len(body))  # ok: log-injection
    return web.json_response({"ok": False}, status=400)


@shared_task
def import_user(email: str) -> None:
    logger.info("importing user " + email)  # expect: log-injection


@shared_task
def import_user_structured(email: str) -> None:
    logger.info("importing user", extra={"email": email})  # ok: log-injection


@app.get("/redirect")
def redirect_log():
    target = request.args.get("next", "/")
    logger.debug("redirecting to {}".format(target))  # expect: log-injection
    return "", 302, {"Location": "/"}


@app.get("/health")
def health():
    logger.debug("health check from %s", request.remote_addr)  # ok: log-injection
    return {"ok": True}
