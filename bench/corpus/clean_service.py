"""A well-behaved async service: nothing here should be flagged."""

import asyncio
import contextlib
import logging
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel

log = logging.getLogger(__name__)


@dataclass
class Settings:
    upstream: str = field(default_factory=lambda: os.environ.get("UPSTREAM_URL", "http://upstream"))
    api_key: str = field(default_factory=lambda: os.environ.get("UPSTREAM_API_KEY", ""))  # ok: hardcoded-secret
    token_type: str = "bearer"  # ok: hardcoded-secret


class Item(BaseModel):
    id: str
    quantity: int


class Inventory:
    def __init__(self) -> None:
        self._items: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def reserve(self, item: Item, check) -> bool:
        async with self._lock:  # ok: instance-lock-global
            available = self._items.get(item.id, 0)
            if not await check(item.id) or available < item.quantity:
                return False
            self._items[item.id] = available - item.quantity  # ok: shared-mutable-state
            return True


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings()
    app.state.settings = settings
    app.state.inventory = Inventory()
    async with httpx.AsyncClient(base_url=settings.upstream, timeout=httpx.Timeout(5.0, connect=2.0)) as client:  # ok: client-leak
        app.state.http = client
        yield


app = FastAPI(lifespan=lifespan)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


@app.get("/items/{item_id}")
async def get_item(item_id: str, http: httpx.AsyncClient = Depends(get_http)) -> dict:
    resp = await http.get(f"/items/{item_id}")  # ok: ssrf
    resp.raise_for_status()
    return resp.json()


@app.post("/batch")
async def batch(ids: list[str], http: httpx.AsyncClient = Depends(get_http)) -> list[dict]:
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(http.get(f"/items/{i}")) for i in ids]  # ok: dangling-task
    return [task.result().json() for task in tasks]


@app.post("/batch-tolerant")
async def batch_tolerant(ids: list[str], http: httpx.AsyncClient = Depends(get_http)) -> list[dict]:
    results = await asyncio.gather(*(http.get(f"/items/{i}") for i in ids), return_exceptions=True)  # ok: gather-siblings
    return [r.json() for r in results if isinstance(r, httpx.Response)]


def git_revision() -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5)  # ok: command-injection
    return done.stdout.strip()


@app.get("/version")
def version() -> dict[str, str]:
    return {"revision": git_revision()}  # ok: blocking-via-helper


async def checked(coro) -> object:
    try:
        return await coro
    except Exception:  # ok: swallowed-error
        log.exception("call failed")
        raise
