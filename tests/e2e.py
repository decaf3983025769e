"""End-to-end harness: signed webhooks into the real app, a real SQLite queue and worker, the fake
GitHub and the fake model. Tests assert on what archbot posted to the fake GitHub."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.github.client import GitHubFactory
from app.handlers import build_router
from app.metrics import Metrics
from app.pipeline.deps import Deps
from app.pipeline.runner import JobRunner
from app.queue.sqlite import SQLiteJobQueue
from app.settings import Settings
from app.usage import SQLiteUsageLedger
from app.web import WebhookConfig, create_app
from app.worker import Worker
from tests.fakeclock import FakeClock
from tests.fakegithub import FakeGitHub
from tests.fakemodel import FakeModel
from tests.webhook_helpers import SECRET, load_payload, signed_headers

PRS = Path(__file__).parent / "fixtures" / "prs"
REPO = "octo/service"
INSTALLATION = 42
BASE = "b" * 40
SHA1 = "1" * 40
SHA2 = "2" * 40
SHA3 = "3" * 40
RANKING_DIFF_V1 = (PRS / "ranking-v1.patch").read_text()
RANKING_FILE_V1 = (PRS / "inference_v1.py").read_text()
TASK_FINDING = {  # the model's finding on ranking-v1.patch that the observability and spoofing tests script
    "path": "service/inference.py",
    "line": 41,
    "side": "RIGHT",
    "severity": "medium",
    "category": "concurrency",
    "title": "Fire-and-forget cache warm-up",
    "rationale": "The task is not kept; keep a reference.",
}


async def no_sleep(_: float) -> None:
    return None


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"github_webhook_secret": SECRET, "github_api_url": "http://gh.test"}
    return Settings(**(base | overrides))


def pr_payload(action: str, *, number: int = 7, sha: str = SHA1, user_type: str = "User") -> dict[str, Any]:
    payload = load_payload("pull_request", "opened.payload.json")
    payload["action"] = action
    payload["number"] = number
    payload["installation"] = {"id": INSTALLATION}
    payload["repository"]["full_name"] = REPO
    pr = payload["pull_request"]
    pr["number"] = number
    pr["head"]["sha"] = sha
    pr["user"]["type"] = user_type
    pr["draft"] = False
    return payload


@dataclass
class Harness:
    fake: FakeGitHub
    model: FakeModel
    queue: SQLiteJobQueue
    client: httpx.AsyncClient
    worker: Worker
    deps: Deps
    clock: FakeClock
    deliveries: list[httpx.Response] = field(default_factory=list)

    async def close(self) -> None:
        await self.client.aclose()
        await self.queue.close()
        if self.deps.ledger is not None:
            await self.deps.ledger.close()

    async def deliver(self, event: str, payload: dict[str, Any], *, delivery: str | None = None) -> httpx.Response:
        body = json.dumps(payload).encode()
        response = await self.client.post(
            "/webhook", content=body, headers=signed_headers(body, event, delivery=delivery)
        )
        self.deliveries.append(response)
        return response

    async def drain(self) -> int:
        return await self.worker.drain()

    def reviews(self, number: int = 7) -> list[Any]:
        return self.fake.reviews(REPO, number)

    def comments(self, number: int = 7) -> list[Any]:
        return self.fake.comments(REPO, number)


async def make_harness(
    tmp_path: Path,
    *,
    config: str | None = None,
    with_model: bool = True,
    fake: FakeGitHub | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    metrics: Metrics | None = None,
    **setting_overrides: Any,
) -> Harness:
    fake = fake or FakeGitHub()
    fake.add_installation(INSTALLATION)
    if REPO not in fake.repos:  # a second harness on the same fake is a restarted process
        fake.add_repo(REPO, files={".github/archbot.yml": config} if config is not None else {})
    model = FakeModel()
    clock = FakeClock(1_800_000_000.0)
    # these scenarios test reviews, not the intake deadline (tests/test_store_faults.py does): on a
    # loaded CI machine the production 0.8 s deadline would turn a slow thread hop into a 503
    queue = SQLiteJobQueue(f"sqlite:///{tmp_path / 'archbot.db'}", clock=clock, intake_timeout=10.0)
    metrics = metrics or Metrics()  # one registry for the receiver, the worker, GitHub and the model (as in serve)
    factory = GitHubFactory(
        api_url="http://gh.test",
        metrics=metrics,
        app_id=fake.app_id,
        private_key=fake.private_key,
        async_transport=transport or fake.transport(),
        sleep=no_sleep,
        write_interval=0.0,
    )
    conf = settings(**setting_overrides)
    ledger = SQLiteUsageLedger(f"sqlite:///{tmp_path / 'archbot.db'}", clock=clock)
    deps = Deps(
        settings=conf,
        factory=factory,
        identity=await factory.identify(),
        models=model.provider(metrics) if with_model else None,
        metrics=metrics,
        ledger=ledger,
        clock=clock,
    )
    app = create_app(
        config=WebhookConfig(secrets=(SECRET,), max_body_bytes=conf.archbot_max_body_bytes, store_timeout=10.0),
        store=queue,
        router=build_router(),
        metrics=metrics,
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://archbot.test")
    runner = JobRunner(deps)
    worker = Worker(
        queue,
        runner.run,
        poll_interval=0.01,
        base_backoff=1.0,
        max_attempts=3,
        on_give_up=runner.give_up,
        metrics=metrics,
    )
    return Harness(fake=fake, model=model, queue=queue, client=client, worker=worker, deps=deps, clock=clock)
