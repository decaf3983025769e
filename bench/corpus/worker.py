"""A Kafka-style consumer that scores events and writes results; sync and async halves."""

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Awaitable, Callable

import httpx

log = logging.getLogger(__name__)

_shutdown = threading.Event()
_processed_lock = threading.Lock()
_processed = 0


def on_sigterm(signum: int, frame: object) -> None:
    _shutdown.set()


def count_processed(n: int) -> None:
    global _processed
    with _processed_lock:
        _processed += n


async def score_event(client: httpx.AsyncClient, event: dict) -> dict:
    resp = await client.post("/score", json=event)
    resp.raise_for_status()
    return resp.json()


async def consume(read: Callable[[], Awaitable[bytes]], client: httpx.AsyncClient) -> None:
    while not _shutdown.is_set():
        raw = await read()
        try:
            event = json.loads(raw)
            await score_event(client, event)
        except:  # expect: swallowed-cancel, swallowed-error
            pass
        count_processed(1)


async def consume_bounded(read: Callable[[], Awaitable[bytes]], client: httpx.AsyncClient) -> None:
    while not _shutdown.is_set():
        raw = await read()
        try:
            async with asyncio.timeout(5):
                await score_event(client, json.loads(raw))
        except (httpx.HTTPError, TimeoutError, json.JSONDecodeError):
            log.exception("dropping event")
        count_processed(1)


async def main(read: Callable[[], Awaitable[bytes]]) -> None:
    signal.signal(signal.SIGTERM, on_sigterm)
    async with httpx.AsyncClient(base_url="http://scorer:8080", timeout=httpx.Timeout(5.0)) as client:
        async with asyncio.TaskGroup() as tg:
            for _ in range(4):
                tg.create_task(consume_bounded(read, client))


def drain(pending: list[str]) -> None:
    try:
        for item in pending:
            log.info("pending %s", item)
    except Exception:  # expect: swallowed-error
        pass
