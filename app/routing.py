"""The router: (event, action) -> thin handlers that turn an event into jobs. One instance serves
both the webhook receiver and the GitHub Action; handler modules contribute their own routers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from app.events import Event
from app.jobs import Job


class Mode(StrEnum):
    """Where archbot runs: as the App (webhooks) or inside a workflow (Action)."""

    APP = "app"
    ACTION = "action"


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may know besides the event: nothing that needs I/O."""

    mode: Mode = Mode.APP
    delivery_id: str | None = None


Handler = Callable[[Event, HandlerContext], Awaitable[list[Job]]]


@dataclass
class Router:
    """Maps ``(event, action)`` to handlers; ``action=None`` registers for every action."""

    _routes: dict[tuple[str, str | None], list[Handler]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def merged(cls, routers: Iterable[Router]) -> Router:
        merged = cls()
        for router in routers:
            for key, handlers in router._routes.items():
                merged._routes[key].extend(handlers)
        return merged

    def register(self, event: str, *actions: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            for action in actions or (None,):
                self._routes[(event, action)].append(handler)
            return handler

        return add

    def handlers_for(self, event: str, action: str | None) -> list[Handler]:
        found = list(self._routes.get((event, action), ()))
        if action is not None:
            found += self._routes.get((event, None), ())
        return found

    def handles(self, event: str, action: str | None) -> bool:
        return bool(self.handlers_for(event, action))

    async def dispatch(self, event: Event, ctx: HandlerContext) -> list[Job]:
        jobs: list[Job] = []
        for handler in self.handlers_for(event.name, event.action):
            jobs.extend(await handler(event, ctx))
        return jobs
