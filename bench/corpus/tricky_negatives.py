"""Code that looks risky at a glance but is correct: a precise reviewer stays quiet on all of it."""

import asyncio
import functools
import hashlib
import json
import pickle
import ssl
import threading
import time
from typing import Any

import aiohttp
import httpx
import jwt
import requests
import yaml

ALLOWED_MODELS = frozenset({"ranker", "encoder"})
DEFAULTS: dict[str, Any] = {"top_k": 10}
_jobs_lock = threading.Lock()
_jobs: dict[str, str] = {}
_limit = asyncio.Semaphore(8)
_seen: set[str] = set()


async def top_k(params: dict[str, Any]) -> int:
    return int(params.get("top_k", DEFAULTS["top_k"]))


async def fan_out(calls: list, tolerate: bool) -> list:
    return await asyncio.gather(*calls, return_exceptions=tolerate)  # ok: gather-siblings


async def one(call) -> list:
    return await asyncio.gather(call())  # ok: gather-siblings


async def spawn_all(coros: list) -> set:
    tasks = [asyncio.create_task(c) for c in coros]  # ok: dangling-task
    done, _ = await asyncio.wait(tasks)
    return done


async def spawn_tracked(coros: list, registry: list) -> None:
    for c in coros:
        registry.append(asyncio.create_task(c))  # ok: dangling-task


async def remember(key: str, fetch) -> None:
    async with _limit:
        await fetch(key)
        _seen.add(key)  # ok: shared-mutable-state


def record_job(job_id: str, state: str) -> None:
    with _jobs_lock:
        _jobs[job_id] = state  # ok: shared-mutable-state


def poll_in_thread(stop: threading.Event, tick) -> None:
    while not stop.is_set():
        tick()
        time.sleep(1)  # ok: blocking-sleep


async def get_legacy(url: str) -> bytes:
    loop = asyncio.get_running_loop()
    resp = await loop.run_in_executor(None, functools.partial(requests.get, url, timeout=5))  # ok: blocking-io
    return resp.content


def read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


async def read_json_async(path: str) -> dict:
    return await asyncio.to_thread(read_json, path)  # ok: blocking-io


def cache_key(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def snapshot(state: dict) -> bytes:
    return pickle.dumps(state)  # ok: unsafe-deserialization


def load_settings(text: str) -> dict:
    return yaml.safe_load(text)  # ok: unsafe-deserialization


def verify(token: str, key: str) -> dict:
    return jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "sub"]})  # ok: jwt-unverified


def fetch_sync(url: str) -> dict:
    with httpx.Client(timeout=5.0) as client:
        return client.get(url).json()  # ok: no-timeout


class Upstream:
    def __init__(self, base_url: str) -> None:
        self._session = aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=10))  # ok: client-leak
        self._cache: dict[str, bytes] = {}

    async def get(self, path: str) -> bytes:
        if path not in self._cache:
            async with self._session.get(path) as resp:
                self._cache[path] = await resp.read()  # ok: shared-mutable-state
        return self._cache[path]

    async def close(self) -> None:
        await self._session.close()


def tls_context(ca_file: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)  # ok: tls-off
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


async def guarded(call) -> Any:
    try:
        return await call()
    except asyncio.CancelledError:
        await asyncio.shield(call.cleanup())
        raise
    except BaseException:  # ok: swallowed-cancel
        call.rollback()
        raise


async def local_buffer(stream) -> list:
    _seen = []
    async for item in stream:
        _seen.append(item)  # ok: shared-mutable-state
    return _seen
