"""Fan-out helpers for a retrieval-augmented inference service."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

_background: set[asyncio.Task[Any]] = set()


async def fetch_all(sources: Iterable[Callable[[], Awaitable[dict]]]) -> list[dict]:
    return await asyncio.gather(*(source() for source in sources))  # expect: gather-siblings


async def score_and_rank(scorer, ranker, query: str) -> tuple[Any, Any]:
    scores, ranking = await asyncio.gather(scorer(query), ranker(query))  # expect: gather-siblings
    return scores, ranking


async def fetch_all_tolerant(sources: Iterable[Callable[[], Awaitable[dict]]]) -> list[dict]:
    results = await asyncio.gather(*(source() for source in sources), return_exceptions=True)
    good = []
    for result in results:
        if isinstance(result, BaseException):
            log.warning("source failed: %r", result)
        else:
            good.append(result)
    return good


async def fetch_all_structured(sources: list[Callable[[], Awaitable[dict]]]) -> list[dict]:
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(source()) for source in sources]
    return [task.result() for task in tasks]


async def record_metrics(event: dict) -> None:
    await asyncio.sleep(0)
    log.info("event %s", event.get("kind"))


async def handle_request(event: dict) -> dict:
    asyncio.create_task(record_metrics(event))  # expect: dangling-task
    return {"ok": True}


async def handle_request_kept(event: dict) -> dict:
    task = asyncio.create_task(record_metrics(event))
    _background.add(task)
    task.add_done_callback(_background.discard)
    return {"ok": True}


async def warm_caches(loaders: list[Callable[[], Awaitable[None]]]) -> None:
    loop = asyncio.get_running_loop()
    for loader in loaders:
        loop.create_task(loader())  # expect: dangling-task


async def refresh(loader: Callable[[], Awaitable[None]]) -> None:
    asyncio.ensure_future(loader())  # expect: dangling-task


async def start_heartbeat(beat: Callable[[], Awaitable[None]]) -> None:
    heartbeat = asyncio.create_task(beat())  # expect: dangling-task
    log.info("heartbeat started")


async def run_with_deadline(job: Callable[[], Awaitable[dict]], seconds: float) -> dict:
    task = asyncio.create_task(job())
    try:
        async with asyncio.timeout(seconds):
            return await task
    finally:
        task.cancel()


class Poller:
    def __init__(self, poll: Callable[[], Awaitable[None]]) -> None:
        self._poll = poll
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._poll()
            await asyncio.sleep(5)
