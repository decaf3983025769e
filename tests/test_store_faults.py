"""The store unavailable (locked past its timeout, read-only) and the leases of dead processes.

Signed deliveries go into the real FastAPI app over a real SQLite file: the receiver answers 503 within a
second and records nothing, so a redelivery of the same id is accepted once the store is back. Leases held
by a process that no longer runs are taken back at once (``reclaim_dead_leases``), never those of a live one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.handlers import build_router
from app.jobs import Job, JobKind
from app.metrics import Metrics
from app.queue import owner
from app.queue.sqlite import SQLiteJobQueue
from app.web import WebhookConfig, create_app
from tests.webhook_helpers import SECRET, load_payload, signed_headers

KEY = "review_pr:Codertocat/Hello-World#2@ec26c3e57ca3a959ca5aad62de7213c562f8c821:incr"


def _client(queue: SQLiteJobQueue) -> httpx.AsyncClient:
    app = create_app(
        config=WebhookConfig(secrets=(SECRET,), max_body_bytes=1024 * 1024),
        store=queue,
        router=build_router(),
        metrics=Metrics(),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://archbot.test")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "archbot.db"
    queue = SQLiteJobQueue(f"sqlite:///{path}")
    await queue.open()
    await queue.close()
    yield path


def _delivery() -> tuple[bytes, dict[str, str]]:
    body = json.dumps(load_payload("pull_request", "opened.payload.json")).encode()
    return body, signed_headers(body, "pull_request", delivery="delivery-under-fault")


def _rows(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
        jobs = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    finally:
        conn.close()
    return int(deliveries), int(jobs)


async def test_locked_store_answers_503_within_a_second_and_records_nothing(db: Path) -> None:
    queue = SQLiteJobQueue(f"sqlite:///{db}")
    body, headers = _delivery()
    blocker = sqlite3.connect(db, isolation_level=None)
    try:
        async with _client(queue) as client:
            await queue.open()
            blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock far past the timeout
            started = time.monotonic()
            r = await client.post("/webhook", content=body, headers=headers)
            elapsed = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert elapsed < 1.0, f"503 after {elapsed:.2f} s"
            blocker.execute("ROLLBACK")
            assert _rows(db) == (0, 0)  # nothing half-recorded
            again = await client.post("/webhook", content=body, headers=headers)  # GitHub redelivers
            assert again.status_code == 202 and again.json() == {"ok": True, "jobs": 1}
            assert await queue.find(KEY) is not None
            assert _rows(db) == (1, 1)
    finally:
        blocker.close()
        await queue.close()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable: chmod for a normal user, the immutable flag for root."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False, capture_output=True).returncode != 0:
        pytest.skip("running as root without chattr +i: cannot make a file read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


async def test_read_only_store_answers_503_and_a_redelivery_works_once_writable(db: Path) -> None:
    body, headers = _delivery()
    with read_only(db):
        queue = SQLiteJobQueue(f"sqlite:///{db}")
        try:
            async with _client(queue) as client:
                started = time.monotonic()
                r = await client.post("/webhook", content=body, headers=headers)
                assert r.status_code == 503, r.text
                assert time.monotonic() - started < 1.0
                ready = await client.get("/readyz")
                assert ready.status_code in (200, 503)  # a read may still work; the write did not
        finally:
            await queue.close()
    assert _rows(db) == (0, 0)
    queue = SQLiteJobQueue(f"sqlite:///{db}")
    try:
        async with _client(queue) as client:
            again = await client.post("/webhook", content=body, headers=headers)
            assert again.status_code == 202 and again.json() == {"ok": True, "jobs": 1}
    finally:
        await queue.close()


# -- leases of dead processes ----------------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _job(number: int) -> Job:
    return Job(kind=JobKind.REVIEW_PR, repo="octo/app", number=number, installation_id=1, head_sha=f"{number:040x}")


async def test_leases_of_dead_local_processes_are_taken_back_at_once(tmp_path: Path) -> None:
    queue = SQLiteJobQueue(f"sqlite:///{tmp_path / 'archbot.db'}")
    me = owner.current()
    parent = owner.ProcessIdentity(me.host, os.getppid(), me.boot, owner.process_start(os.getppid()) or "")
    dead = owner.ProcessIdentity(me.host, _dead_pid(), me.boot, "12345")
    reused = owner.ProcessIdentity(me.host, os.getppid(), me.boot, "1")  # the pid lives, but started later
    elsewhere = owner.ProcessIdentity("another-host", _dead_pid(), me.boot, "1")
    holders = {
        "dead": owner.worker_id(dead),
        "reused": owner.worker_id(reused),
        "alive": owner.worker_id(parent),
        "me": owner.worker_id(me),
        "elsewhere": owner.worker_id(elsewhere),
        "legacy-dead": f"{me.host}:{dead.pid}:abcdef12",
        "junk": "not a worker id",
    }
    try:
        for number, holder in enumerate(holders.values(), start=1):
            await queue.enqueue(_job(number))
            [lease] = await queue.lease(holder, 300)
            assert lease.job.number == number
        gone = await queue.reclaim_dead_leases(owner.dead_holder_check(me))
        assert sorted(holder for _, holder in gone) == sorted(
            [holders["dead"], holders["reused"], holders["legacy-dead"]]
        )
        counts = await queue.counts()
        assert counts["queued"] == 3 and counts["running"] == 4
        again = await queue.lease("new-worker", 300, limit=10)
        assert sorted(lease.job.number for lease in again) == [1, 2, 6]
        assert all(lease.attempts == 2 for lease in again)  # the crashed attempt counts
        assert await queue.reclaim_dead_leases(owner.dead_holder_check(me)) == []
    finally:
        await queue.close()


def test_holder_is_dead_decides_only_what_it_knows() -> None:
    me = owner.ProcessIdentity("h", 10, "boot1", "500")
    starts = {20: "700", 30: ""}

    def start_of(pid: int) -> str | None:
        return starts.get(pid)

    assert owner.holder_is_dead("h:20:boot1:600:x", me, start_of)  # pid 20 now started at 700: reused
    assert not owner.holder_is_dead("h:20:boot1:700:x", me, start_of)
    assert owner.holder_is_dead("h:99:boot1:1:x", me, start_of)  # no such process
    assert owner.holder_is_dead("h:20:boot0:700:x", me, start_of)  # an earlier boot
    assert not owner.holder_is_dead("h:30:boot1:5:x", me, start_of)  # alive, start unknown
    assert not owner.holder_is_dead("h:10:boot1:500:other", me, start_of)  # this very process
    assert owner.holder_is_dead("h:10:boot1:400:x", me, start_of)  # this pid, an earlier process
    assert not owner.holder_is_dead("other:99:boot1:1:x", me, start_of)  # another host: cannot tell
    assert not owner.holder_is_dead("h:notapid:x", me, start_of)
    assert owner.parse_worker_id(owner.worker_id(me)) == me
