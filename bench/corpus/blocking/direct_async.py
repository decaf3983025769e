"""Blocking calls made straight from coroutines (aiohttp, Starlette, an async consumer, a model server)."""

import asyncio
import concurrent.futures
import queue
import smtplib
import socket
import sqlite3
import threading
import time
from pathlib import Path

import aiofiles
import boto3
import httpx
import pandas as pd
import redis
import redis.asyncio as aioredis
import requests
from aiohttp import web
from starlette.requests import Request
from starlette.responses import JSONResponse

_index_lock = threading.Lock()
_jobs: queue.Queue[str] = queue.Queue()
_ready = threading.Event()
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
_async_lock = asyncio.Lock()
CACHE = redis.Redis(host="cache.internal", socket_timeout=1)
ACACHE = aioredis.Redis(host="cache.internal", socket_timeout=1)


def rebuild_index(app: web.Application) -> None:
    """Runs in a worker thread every few minutes: reloads the search index from disk under the lock."""
    with _index_lock:
        app["index"] = Path("/srv/data/index.txt").read_text().splitlines()


async def profile(request: web.Request) -> web.Response:
    resp = requests.get(f"https://users.internal/{request.match_info['id']}", timeout=2)  # expect: blocking-io
    return web.json_response(resp.json())


async def profile_async(request: web.Request) -> web.Response:
    client: httpx.AsyncClient = request.app["http"]
    resp = await client.get(f"https://users.internal/{request.match_info['id']}")  # ok: blocking-io
    return web.json_response(resp.json())


async def cached_profile(request: web.Request) -> web.Response:
    hit = CACHE.get(f"profile:{request.match_info['id']}")  # expect: blocking-io
    return web.Response(body=hit or b"{}", content_type="application/json")


async def cached_profile_async(request: web.Request) -> web.Response:
    hit = await ACACHE.get(f"profile:{request.match_info['id']}")  # ok: blocking-io
    return web.Response(body=hit or b"{}", content_type="application/json")


async def object_download(request: Request) -> JSONResponse:
    s3 = boto3.client("s3")
    obj = s3.get_object(Bucket="exports", Key=request.path_params["key"])  # expect: blocking-io
    return JSONResponse({"size": obj["ContentLength"]})


async def object_download_thread(request: Request) -> JSONResponse:
    s3 = request.app.state.s3
    obj = await asyncio.to_thread(s3.get_object, Bucket="exports", Key=request.path_params["key"])  # ok: blocking-io
    return JSONResponse({"size": obj["ContentLength"]})


async def notify_by_mail(request: Request) -> JSONResponse:
    with smtplib.SMTP("smtp.internal", 587, timeout=10) as server:  # expect: blocking-io
        server.sendmail("noreply@shop.internal", [request.query_params["to"]], "Subject: hi\n\nhello")  # expect: blocking-io
    return JSONResponse({"sent": True})


async def port_open(request: Request) -> JSONResponse:
    try:
        socket.create_connection(("db.internal", 5432), timeout=1).close()  # expect: blocking-io
    except OSError:
        return JSONResponse({"open": False})
    return JSONResponse({"open": True})


async def port_open_async(request: Request) -> JSONResponse:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection("db.internal", 5432), 1)  # ok: blocking-io
    except OSError:
        return JSONResponse({"open": False})
    writer.close()
    return JSONResponse({"open": True})


async def sales_frame(request: Request) -> JSONResponse:
    frame = pd.read_csv("s3://exports/sales.csv")  # expect: blocking-io
    return JSONResponse({"rows": len(frame)})


async def audit_count(request: Request) -> JSONResponse:
    with sqlite3.connect("/srv/data/audit.db") as conn:  # expect: blocking-io
        (total,) = conn.execute("SELECT count(*) FROM audit").fetchone()  # expect: blocking-io
    return JSONResponse({"total": total})


async def read_manifest(request: Request) -> JSONResponse:
    async with aiofiles.open("/srv/data/manifest.json") as fh:  # ok: blocking-io
        return JSONResponse({"manifest": await fh.read()})


async def read_manifest_sync(request: Request) -> JSONResponse:
    return JSONResponse({"manifest": Path("/srv/data/manifest.json").read_text()})  # expect: blocking-io


async def poll_ready(request: Request) -> JSONResponse:
    while not _ready.is_set():
        time.sleep(0.2)  # expect: blocking-sleep
    return JSONResponse({"ready": True})


async def poll_ready_async(request: Request) -> JSONResponse:
    while not _ready.is_set():
        await asyncio.sleep(0.2)  # ok: blocking-sleep
    return JSONResponse({"ready": True})


async def wait_ready(request: Request) -> JSONResponse:
    _ready.wait(timeout=30)  # expect: blocking-lock
    return JSONResponse({"ready": True})


async def search(request: Request) -> JSONResponse:
    with _index_lock:  # expect: blocking-lock
        hits = [doc for doc in request.app.state.index if request.query_params["q"] in doc]
    return JSONResponse({"hits": hits})


async def search_try_lock(request: Request) -> JSONResponse:
    if not _index_lock.acquire(blocking=False):  # ok: blocking-lock
        return JSONResponse({"error": "index rebuilding"}, status_code=503)
    try:
        hits = [doc for doc in request.app.state.index if request.query_params["q"] in doc]
    finally:
        _index_lock.release()
    return JSONResponse({"hits": hits})


async def search_async_lock(request: Request) -> JSONResponse:
    async with _async_lock:  # ok: blocking-lock
        hits = [doc for doc in request.app.state.index if request.query_params["q"] in doc]
    return JSONResponse({"hits": hits})


async def next_job(request: Request) -> JSONResponse:
    return JSONResponse({"job": _jobs.get(timeout=10)})  # expect: blocking-lock


async def next_job_nowait(request: Request) -> JSONResponse:
    try:
        return JSONResponse({"job": _jobs.get_nowait()})  # ok: blocking-lock
    except queue.Empty:
        return JSONResponse({"job": None})


async def render_pdf(request: Request) -> JSONResponse:
    future = _pool.submit(lambda: b"%PDF-1.7")
    return JSONResponse({"size": len(future.result(timeout=30))})  # expect: blocking-lock


async def render_pdf_wrapped(request: Request) -> JSONResponse:
    future = _pool.submit(lambda: b"%PDF-1.7")
    return JSONResponse({"size": len(await asyncio.wrap_future(future))})  # ok: blocking-lock


class EmbeddingService:
    """A model server's handler object: loads once, embeds per request."""

    def __init__(self, model) -> None:
        self.model = model
        self.session = boto3.Session()

    def _tokenise(self, text: str) -> list[str]:
        return text.lower().split()

    def _download_weights(self) -> bytes:
        return self.session.client("s3").get_object(Bucket="models", Key="embed.bin")["Body"].read()

    async def credentials(self) -> str:
        return self.session.get_credentials().access_key  # expect: blocking-io

    async def embed(self, text: str) -> list[float]:
        tokens = self._tokenise(text)  # ok: blocking-via-helper
        return await asyncio.to_thread(self.model.encode, tokens)  # ok: blocking-io

    async def reload(self) -> None:
        self.model.load(self._download_weights())  # expect: blocking-via-helper

    async def reload_offloaded(self) -> None:
        self.model.load(await asyncio.to_thread(self._download_weights))  # ok: blocking-via-helper
