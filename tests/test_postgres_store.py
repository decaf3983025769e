"""The PostgreSQL backend beyond the queue contract: ``archbot db migrate`` (twice, from two processes at
once), a database without the schema refused with the command to run, the database's own guarantees."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app.jobs import Job, JobKind
from app.pg_schema import SchemaError, migrate
from app.queue.postgres import PostgresJobQueue
from tests.pgtest import fresh_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def review(number: int, sha: str) -> Job:
    return Job(kind=JobKind.REVIEW_PR, repo="octo/repo", number=number, head_sha=sha * 40, installation_id=7)


def archbot(*args: str, url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHBOT_", "GITHUB_", "ANTHROPIC_"))}
    env |= {"ARCHBOT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_db_migrate_from_two_processes_at_once_then_again(db_url: str) -> None:
    first, second = archbot("db", "migrate", url=db_url), archbot("db", "migrate", url=db_url)
    outs = [proc.communicate(timeout=60) for proc in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    said = sorted(out for out, _ in outs)
    assert said == [
        "archbot db migrate: PostgreSQL schema version 1 already up to date\n",
        "archbot db migrate: PostgreSQL schema version 1 applied\n",
    ], "the advisory lock made one of them wait and find everything in place"
    again = archbot("db", "migrate", url=db_url)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "already up to date" in out
    with psycopg.connect(db_url) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"procrastinate_jobs", "archbot_jobs", "archbot_deliveries", "archbot_usage_events"} <= tables


def test_db_migrate_on_an_unreachable_server_is_one_line_without_the_password() -> None:
    proc = archbot("db", "migrate", url="postgresql://archbot:hunter2@127.0.0.1:9/archbot")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == ""
    assert err.startswith("archbot: cannot migrate postgresql://archbot:***@127.0.0.1:9/archbot")
    assert "hunter2" not in err and len(err.strip().splitlines()) == 1


async def test_a_database_without_the_schema_is_refused_with_the_command_to_run(db_url: str) -> None:
    queue = PostgresJobQueue(db_url)
    try:
        with pytest.raises(SchemaError, match="archbot db migrate"):
            await queue.open()
        assert not await queue.ping()
    finally:
        await queue.close()


async def test_the_database_itself_allows_one_queued_review_and_one_running_job_per_pr(db_url: str) -> None:
    """procrastinate's unique indexes back the contract even against a writer that bypasses archbot."""
    await migrate(db_url)
    queue = PostgresJobQueue(db_url)
    try:
        await queue.enqueue(review(1, "a"))
        [lease] = await queue.lease("w", 60)
        await queue.enqueue(review(1, "b"))
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.UniqueViolation):  # a second queued review of PR 1
                await conn.execute(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock)"
                    " VALUES ('archbot', 'archbot.run_job', 'octo/repo#1', 'review:octo/repo#1')"
                )
            with pytest.raises(psycopg.errors.UniqueViolation):  # a second running job of PR 1
                await conn.execute(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, status)"
                    " VALUES ('archbot', 'archbot.run_job', 'octo/repo#1', 'doing')"
                )
        assert await queue.complete(lease)
    finally:
        await queue.close()


async def test_many_leasers_never_run_two_jobs_of_one_pr(db_url: str) -> None:
    """Eight queues (eight pools: like eight worker processes) lease at once; each PR runs one job at a time."""
    await migrate(db_url)
    queues = [PostgresJobQueue(db_url) for _ in range(8)]
    try:
        for number in range(10):
            for comment in range(3):
                await queues[0].enqueue(
                    Job(kind=JobKind.COMMAND, repo="octo/repo", number=number, comment_id=number * 10 + comment)
                )
        done: list[int] = []
        running: set[str] = set()

        async def work(queue: PostgresJobQueue, name: str) -> None:
            while len(done) < 30:
                leases = await queue.lease(name, 60, limit=2)
                for lease in leases:
                    assert lease.job.serial_key not in running, "two jobs of one PR at once"
                    running.add(lease.job.serial_key)
                await asyncio.sleep(0)
                for lease in leases:
                    running.discard(lease.job.serial_key)
                    assert await queue.complete(lease)
                    done.append(lease.job_id)
                if not leases:
                    await asyncio.sleep(0.01)

        await asyncio.wait_for(asyncio.gather(*(work(q, f"w{i}") for i, q in enumerate(queues))), timeout=60)
        assert len(done) == len(set(done)) == 30
        assert (await queues[0].counts())["done"] == 30
    finally:
        for queue in queues:
            await queue.close()


async def test_readyz_checks_the_database_and_metrics_count_from_it(db_url: str) -> None:
    """The receiver's /readyz answers 503 while PostgreSQL refuses it, 200 again once it is back; /metrics
    reports the queue depth per state read from the database (jobs another process queued included)."""
    import httpx

    from app.handlers import build_router
    from app.metrics import Metrics
    from app.web import WebhookConfig, create_app
    from tests.webhook_helpers import SECRET

    await migrate(db_url)
    other, queue = PostgresJobQueue(db_url), PostgresJobQueue(db_url, ping_timeout=2.0)
    app = create_app(
        config=WebhookConfig(secrets=(SECRET,), max_body_bytes=1024 * 1024),
        store=queue,
        router=build_router(),
        metrics=Metrics(),
    )
    name = db_url.rsplit("/", 1)[1]
    admin = await psycopg.AsyncConnection.connect(db_url.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    try:
        await other.enqueue(review(1, "a"))
        await other.enqueue(review(1, "b"))  # supersedes the queued "a"
        await other.enqueue(review(2, "a"))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://archbot.test") as client:
            assert (await client.get("/readyz")).status_code == 200
            text = (await client.get("/metrics")).text
            assert 'archbot_jobs{state="queued"} 2.0' in text
            assert 'archbot_jobs{state="superseded"} 1.0' in text

            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            answer = await client.get("/readyz")
            assert answer.status_code == 503, answer.text

            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            for _ in range(100):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("/readyz did not recover after the database came back")
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
        await queue.close()
        await other.close()


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("worker",)])
def test_serve_and_worker_refuse_an_unmigrated_or_unreachable_database_in_one_line(
    db_url: str, command: tuple[str, ...]
) -> None:
    from tests.fakegithub import app_private_key

    base = {
        "GITHUB_APP_ID": "4242",
        "GITHUB_PRIVATE_KEY": app_private_key(),
        "GITHUB_WEBHOOK_SECRET": "s3cret",
        "GITHUB_API_URL": "http://127.0.0.1:9",  # never reached: the store is checked first
    }
    for url, expected in (
        (db_url, "run `archbot db migrate` first"),
        ("postgresql://archbot:hunter2@127.0.0.1:9/archbot", "postgresql://archbot:***@127.0.0.1:9/archbot"),
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHBOT_", "GITHUB_", "ANTHROPIC_"))}
        env |= base | {"ARCHBOT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *command],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        [last] = done.stderr.strip().splitlines()
        assert last.startswith("archbot: cannot open the store") and expected in last, done.stderr
        assert "hunter2" not in done.stderr
