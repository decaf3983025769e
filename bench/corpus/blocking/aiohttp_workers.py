"""An aiohttp gateway and its queue workers (aio-pika, aiokafka): outbound calls, local tools, thread hand-offs.

Each blocking call sits next to the variant real services use instead: an awaited client, an executor,
`asyncio.create_subprocess_exec`, `loop.getaddrinfo`, a future wrapped with `asyncio.wrap_future`.
"""

import asyncio
import concurrent.futures
import json
import queue
import smtplib
import socket
import sqlite3
import subprocess
import threading

import aio_pika
import paramiko
import psycopg2.pool
import urllib3
from aiohttp import ClientSession, web
from aiokafka import AIOKafkaProducer
from kafka import KafkaProducer

AUDIT = sqlite3.connect("/srv/data/audit.db", check_same_thread=False)
HTTP = urllib3.PoolManager(timeout=urllib3.Timeout(total=5))
PG = psycopg2.pool.ThreadedConnectionPool(1, 8, dsn="postgresql://gateway@db.internal/gateway")
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4)
LEGACY_EVENTS = KafkaProducer(bootstrap_servers="kafka.internal:9092")
RESULTS: queue.Queue[dict] = queue.Queue()
GPU_SLOTS = threading.BoundedSemaphore(2)
routes = web.RouteTableDef()


@routes.get("/audit/{user}")
async def audit(request: web.Request) -> web.Response:
    rows = AUDIT.execute("SELECT at, action FROM audit WHERE user = ?", (request.match_info["user"],)).fetchall()  # expect: blocking-io
    return web.json_response(rows)


@routes.get("/audit/{user}/executor")
async def audit_executor(request: web.Request) -> web.Response:
    loop = asyncio.get_running_loop()
    query = "SELECT at, action FROM audit WHERE user = ?"
    rows = await loop.run_in_executor(POOL, lambda: AUDIT.execute(query, (request.match_info["user"],)).fetchall())  # ok: blocking-io
    return web.json_response(rows)


@routes.get("/weather/{city}")
async def weather(request: web.Request) -> web.Response:
    resp = HTTP.request("GET", f"https://weather.internal/{request.match_info['city']}")  # expect: blocking-io
    return web.json_response(json.loads(resp.data))


@routes.get("/weather/{city}/async")
async def weather_async(request: web.Request) -> web.Response:
    session: ClientSession = request.app["http"]
    async with session.request("GET", f"https://weather.internal/{request.match_info['city']}") as resp:  # ok: blocking-io
        return web.json_response(await resp.json())


@routes.get("/resolve/{host}")
async def resolve(request: web.Request) -> web.Response:
    return web.json_response({"ip": socket.gethostbyname(request.match_info["host"])})  # expect: blocking-io


@routes.get("/resolve/{host}/async")
async def resolve_async(request: web.Request) -> web.Response:
    infos = await asyncio.get_running_loop().getaddrinfo(request.match_info["host"], 443)  # ok: blocking-io
    return web.json_response({"ip": infos[0][4][0]})


@routes.get("/accounts/{account_id}")
async def account(request: web.Request) -> web.Response:
    conn = PG.getconn()  # expect: blocking-io
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM accounts WHERE id = %s", (int(request.match_info["account_id"]),))  # expect: blocking-io
            (name,) = cur.fetchone()  # expect: blocking-io
    finally:
        PG.putconn(conn)
    return web.json_response({"name": name})


@routes.post("/thumbnails")
async def thumbnail(request: web.Request) -> web.Response:
    proc = subprocess.Popen(["convert", "-", "-resize", "128x128", "png:-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # expect: blocking-io
    png, _ = proc.communicate(await request.read(), timeout=30)  # expect: blocking-io
    return web.Response(body=png, content_type="image/png")


@routes.post("/thumbnails/async")
async def thumbnail_async(request: web.Request) -> web.Response:
    proc = await asyncio.create_subprocess_exec(  # ok: blocking-io
        "convert", "-", "-resize", "128x128", "png:-", stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    png, _ = await proc.communicate(await request.read())  # ok: blocking-io
    return web.Response(body=png, content_type="image/png")


@routes.get("/version")
async def version(request: web.Request) -> web.Response:
    out = subprocess.check_output(["git", "describe", "--tags"], text=True, timeout=5)  # expect: blocking-io
    return web.json_response({"version": out.strip()})


@routes.post("/hosts/{host}/restart")
async def restart_host(request: web.Request) -> web.Response:
    with paramiko.SSHClient() as ssh:
        ssh.load_system_host_keys()  # ok: blocking-io
        ssh.connect(request.match_info["host"], username="deploy", timeout=10)  # expect: blocking-io
        _stdin, stdout, _stderr = ssh.exec_command("sudo systemctl restart app")  # expect: blocking-io
        return web.json_response({"status": stdout.channel.recv_exit_status()})


def render(job: dict) -> dict:
    return {"id": job["id"], "pages": len(job["html"]) // 4000 + 1}


@routes.post("/render")
async def render_job(request: web.Request) -> web.Response:
    job = await request.json()
    future = POOL.submit(render, job)
    return web.json_response(future.result(timeout=60))  # expect: blocking-lock


@routes.post("/render/wrapped")
async def render_job_wrapped(request: web.Request) -> web.Response:
    job = await request.json()
    result = await asyncio.wrap_future(POOL.submit(render, job))  # ok: blocking-lock
    return web.json_response(result)


@routes.post("/render/executor")
async def render_job_executor(request: web.Request) -> web.Response:
    job = await request.json()
    return web.json_response(await asyncio.get_running_loop().run_in_executor(POOL, render, job))  # ok: blocking-lock


def mail_report(to: str, body: str) -> None:
    with smtplib.SMTP("smtp.internal", 587, timeout=10) as smtp:
        smtp.sendmail("reports@gateway.internal", [to], body)


async def on_report(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    async with message.process():
        payload = json.loads(message.body)
        mail_report(payload["to"], payload["body"])  # expect: blocking-via-helper


async def on_report_offloaded(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    async with message.process():
        payload = json.loads(message.body)
        await asyncio.to_thread(mail_report, payload["to"], payload["body"])  # ok: blocking-via-helper


async def on_order(message: aio_pika.abc.AbstractIncomingMessage, producer: AIOKafkaProducer) -> None:
    async with message.process():
        LEGACY_EVENTS.send("orders", message.body)  # expect: blocking-io
        await producer.send_and_wait("orders", message.body)  # ok: blocking-io


async def collect_result(request: web.Request) -> web.Response:
    return web.json_response(RESULTS.get(timeout=5))  # expect: blocking-lock


async def collect_result_nowait(request: web.Request) -> web.Response:
    try:
        return web.json_response(RESULTS.get_nowait())  # ok: blocking-lock
    except queue.Empty:
        return web.json_response({})


async def score_on_gpu(request: web.Request) -> web.Response:
    text = await request.text()
    with GPU_SLOTS:  # expect: blocking-lock
        payload = request.app["scorer"].score(text)
    return web.json_response(payload)


class Uploader:
    """Pushes files to a partner over a pooled HTTP connection owned by the caller."""

    def __init__(self, pool) -> None:
        self.pool = pool

    async def push(self, name: str, body: bytes) -> int:
        resp = self.pool.request("PUT", f"https://partner.internal/files/{name}", body=body)  # expect: blocking-io
        return resp.status

    async def push_async(self, session: ClientSession, name: str, body: bytes) -> int:
        resp = await session.request("PUT", f"https://partner.internal/files/{name}", data=body)  # ok: blocking-io
        return resp.status

    async def push_many(self, session: ClientSession, files: dict[str, bytes]) -> list[int]:
        calls = [session.request("PUT", f"https://partner.internal/files/{n}", data=b) for n, b in files.items()]  # ok: blocking-io
        return [resp.status for resp in await asyncio.gather(*calls, return_exceptions=True)]


async def consume(queue_: aio_pika.abc.AbstractQueue) -> None:
    def shape(body: bytes) -> dict:
        return json.loads(AUDIT.execute("SELECT ?", (body,)).fetchone()[0])

    async for message in queue_.iterator():  # ok: blocking-io
        async with message.process():
            record = await asyncio.to_thread(shape, message.body)  # ok: blocking-via-helper
            await asyncio.sleep(0)
            print(record)
