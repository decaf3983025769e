"""Caching and rate limiting for an async model-serving API."""

import asyncio
import logging
import threading
import time
from collections import defaultdict

log = logging.getLogger(__name__)

_embedding_cache: dict[str, list[float]] = {}
_inflight: dict[str, asyncio.Future] = {}
_hits = defaultdict(int)
_cache_lock = asyncio.Lock()
_stats_lock = threading.Lock()
_tokens_used = 0
_recent: list[str] = []


async def embed(text: str, model) -> list[float]:
    if text in _embedding_cache:
        return _embedding_cache[text]
    vector = await model.embed(text)
    _embedding_cache[text] = vector  # expect: shared-mutable-state
    return vector


async def embed_locked(text: str, model) -> list[float]:
    async with _cache_lock:
        if text not in _embedding_cache:
            _embedding_cache[text] = await model.embed(text)
        return _embedding_cache[text]


async def count_hit(route: str, backend) -> None:
    await backend.ping()
    _hits[route] += 1  # expect: shared-mutable-state


def count_hit_sync(route: str) -> None:
    _hits[route] += 1


async def note_request(request_id: str) -> None:
    _recent.append(request_id)
    if len(_recent) > 1000:
        _recent.pop(0)


async def charge_tokens(n: int, ledger) -> None:
    global _tokens_used
    await ledger.record(n)
    _tokens_used += n  # expect: shared-mutable-state


async def dedupe_inflight(key: str, compute) -> object:
    if key in _inflight:
        return await _inflight[key]
    fut = asyncio.get_running_loop().create_future()
    _inflight[key] = fut  # expect: shared-mutable-state
    try:
        result = await compute()
        fut.set_result(result)
        return result
    finally:
        _inflight.pop(key, None)  # expect: shared-mutable-state


async def flush_stats(sink) -> None:
    with _stats_lock:
        snapshot = dict(_hits)
        await sink.write(snapshot)  # expect: await-in-thread-lock


async def snapshot_stats() -> dict[str, int]:
    with _stats_lock:  # ok: blocking-lock
        return dict(_hits)


class ModelRegistry:
    models: dict[str, object] = {}

    async def register(self, name: str, loader) -> None:
        model = await loader(name)
        self.models[name] = model  # expect: shared-mutable-state


class SessionStore:
    sessions: dict[str, dict] = {}

    def __init__(self) -> None:
        self.sessions = {}
        self._lock = asyncio.Lock()

    async def put(self, sid: str, fetch) -> None:
        self.sessions[sid] = await fetch(sid)


class RateLimiter:
    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._lock = threading.Lock()
        self._last = 0.0

    async def acquire(self, refill) -> None:
        with self._lock:
            now = time.monotonic()
            await refill(now - self._last)  # expect: await-in-thread-lock
            self._last = now


async def consume(queue: asyncio.Queue, handle) -> None:
    while True:
        item = await queue.get()
        try:
            await handle(item)
        except BaseException:  # expect: swallowed-cancel
            log.exception("handler failed")
        finally:
            queue.task_done()


async def consume_safely(queue: asyncio.Queue, handle) -> None:
    while True:
        item = await queue.get()
        try:
            await handle(item)
        except Exception:
            log.exception("handler failed")
        finally:
            queue.task_done()


async def heartbeat(send) -> None:
    try:
        while True:
            await send()
            await asyncio.sleep(10)
    except asyncio.CancelledError:  # expect: swallowed-cancel
        log.info("heartbeat stopped")


async def heartbeat_clean(send) -> None:
    try:
        while True:
            await send()
            await asyncio.sleep(10)
    except asyncio.CancelledError:
        log.info("heartbeat stopped")
        raise
