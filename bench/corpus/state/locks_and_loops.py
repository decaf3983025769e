"""Process-wide state behind per-instance locks, and collections changed while they are iterated."""

import asyncio
import os
import threading
from typing import Any

_REGISTRY: dict[str, Any] = {}
_REGISTRY_LOCK = asyncio.Lock()
_PROCESS_ENV_LOCK = threading.Lock()


class CredentialRefresher:
    """One per client: each refreshes AWS credentials into the process environment."""

    def __init__(self, fetch) -> None:
        self._lock = asyncio.Lock()
        self._fetch = fetch
        self._cached: dict[str, str] = {}

    async def refresh(self) -> None:
        creds = await self._fetch()
        async with self._lock:  # near: instance-lock-global
            os.environ["AWS_ACCESS_KEY_ID"] = creds["key"]  # expect: instance-lock-global
            os.environ["AWS_SECRET_ACCESS_KEY"] = creds["secret"]

    async def refresh_cached(self) -> None:
        creds = await self._fetch()
        async with self._lock:
            self._cached.update(creds)  # ok: instance-lock-global


class PluginLoader:
    """Created per request handler; registers plugins in the module registry."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded: list[str] = []

    def register(self, name: str, plugin: Any) -> None:
        with self.lock:  # near: instance-lock-global
            _REGISTRY[name] = plugin  # expect: instance-lock-global
            self.loaded.append(name)

    def remember(self, name: str) -> None:
        with self.lock:
            self.loaded.append(name)  # ok: instance-lock-global


class SharedPluginLoader:
    """The same, with the module's own lock around the module's registry."""

    async def register(self, name: str, plugin: Any) -> None:
        async with _REGISTRY_LOCK:
            _REGISTRY[name] = plugin  # ok: instance-lock-global


class TimezoneSwitcher:
    def __init__(self) -> None:
        self._guard = threading.RLock()

    def set_zone(self, zone: str) -> None:
        with self._guard:  # near: instance-lock-global
            os.environ["TZ"] = zone  # expect: instance-lock-global

    def set_zone_process_lock(self, zone: str) -> None:
        with _PROCESS_ENV_LOCK:
            os.environ["TZ"] = zone  # ok: instance-lock-global


def drop_expired(sessions: list[dict], now: float) -> None:
    for session in sessions:
        if session["expires"] < now:
            sessions.remove(session)  # expect: mutate-while-iterating


def drop_expired_copy(sessions: list[dict], now: float) -> None:
    for session in list(sessions):
        if session["expires"] < now:
            sessions.remove(session)  # ok: mutate-while-iterating


def drop_expired_rebuild(sessions: list[dict], now: float) -> None:
    sessions[:] = [s for s in sessions if s["expires"] >= now]  # ok: mutate-while-iterating


def evict(cache: dict[str, float], cutoff: float) -> None:
    for key in cache:
        if cache[key] < cutoff:
            del cache[key]  # expect: mutate-while-iterating


def evict_keys(cache: dict[str, float], cutoff: float) -> None:
    for key in cache.keys():
        if cache[key] < cutoff:
            cache.pop(key)  # expect: mutate-while-iterating


def evict_snapshot(cache: dict[str, float], cutoff: float) -> None:
    for key in list(cache):
        if cache[key] < cutoff:
            del cache[key]  # ok: mutate-while-iterating


def touch_all(cache: dict[str, float], now: float) -> None:
    for key in cache:
        cache[key] = now  # ok: mutate-while-iterating


def normalise_headers(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        headers[name.lower()] = value.strip()  # expect: mutate-while-iterating


def normalise_headers_copy(headers: dict[str, str]) -> None:
    for name, value in list(headers.items()):
        headers[name.lower()] = value.strip()  # ok: mutate-while-iterating


def drop_first_match(items: list[str], target: str) -> None:
    for index, item in enumerate(items):
        if item == target:
            del items[index]  # ok: mutate-while-iterating
            break


def drop_all_matches(items: list[str], target: str) -> None:
    for index, item in enumerate(items):
        if item == target:
            items.pop(index)  # expect: mutate-while-iterating


def expand(queue: list[str]) -> None:
    for item in queue:
        if item.endswith("/"):
            queue.append(item + "index.html")  # ok: mutate-while-iterating


def retire(workers: set[str], dead: set[str]) -> None:
    for worker in workers:
        if worker in dead:
            workers.discard(worker)  # expect: mutate-while-iterating


def retire_difference(workers: set[str], dead: set[str]) -> None:
    workers -= dead  # ok: mutate-while-iterating
