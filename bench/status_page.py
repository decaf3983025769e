"""Status page latency: ``GET /`` (logged in, every section) on a SQLite store holding many jobs.

The store gets ``--jobs`` finished reviews (the 7-day retention can keep that many), 50 failed, 50
waiting to retry and a spend row per installation; then the page is fetched ``--runs`` times through the
real ASGI app in-process (no network) and the median and 95th percentile are printed, with the public
page for comparison. Nothing leaves the machine.

Usage: ``.venv/bin/python bench/status_page.py [--jobs 20000] [--runs 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from app.handlers import build_router
from app.jobs import Job, JobKind
from app.metrics import Metrics
from app.queue.sqlite import SQLiteJobQueue
from app.serve import add_status_page
from app.settings import Settings
from app.usage import SQLiteUsageLedger
from app.web import WebhookConfig, create_app

TOKEN = secrets.token_urlsafe(24)
WEBHOOK_SECRET = secrets.token_urlsafe(24)


async def fill(queue: SQLiteJobQueue, ledger: SQLiteUsageLedger, jobs: int) -> None:
    for n in range(jobs + 100):
        job = Job(
            kind=JobKind.REVIEW_PR, repo=f"octo/repo{n % 50}", number=n + 1, head_sha="a" * 40, installation_id=n % 20
        )
        await queue.enqueue(job)
    while leases := await queue.lease("bench", 300, limit=200):
        for lease in leases:
            number = lease.job.number
            if number <= 50:
                await queue.fail(lease, error="GitHub answered 403: Resource not accessible by integration")
            elif number <= 100:
                await queue.retry(lease, delay=3600, error="GitHub unavailable: 502 Bad Gateway")
            else:
                await queue.complete(lease)
    for installation in range(20):
        await ledger.add_tokens(f"inst:{installation}", 1000 * installation)


def quantiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"median {1000 * statistics.median(ordered):.1f} ms, p95 {1000 * p95:.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'archbot.db'}"
        queue, ledger, metrics = SQLiteJobQueue(url), SQLiteUsageLedger(url), Metrics()
        started = time.perf_counter()
        await fill(queue, ledger, args.jobs)
        print(
            f"store: {args.jobs} done reviews, 50 failed, 50 retrying ({time.perf_counter() - started:.0f} s to fill)"
        )
        metrics.worker_up.set(1)
        settings = Settings(github_webhook_secret=WEBHOOK_SECRET, archbot_status_token=TOKEN)
        app = create_app(
            config=WebhookConfig(secrets=(WEBHOOK_SECRET,), max_body_bytes=1 << 20),
            store=queue,
            router=build_router(),
            metrics=metrics,
        )
        add_status_page(app, settings, queue=queue, ledger=ledger, metrics=metrics)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            for label, headers in (("logged in", {"authorization": f"Bearer {TOKEN}"}), ("public", {})):
                samples = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    response = await client.get("/", headers=headers)
                    samples.append(time.perf_counter() - t0)
                    assert response.status_code == 200
                print(f"GET / {label}: {quantiles(samples)} over {args.runs} requests ({len(response.content)} bytes)")
        await queue.close()
        await ledger.close()


if __name__ == "__main__":
    asyncio.run(main())
