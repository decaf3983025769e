"""The scale-out world: receivers (``archbot serve``) and ``archbot worker`` processes on one PostgreSQL
database, the fake GitHub and the fake model served on loopback, signed deliveries spread over many PRs
with repeated pushes and redeliveries. Used by ``tests/test_scaleout.py`` (small) and
``bench/scaleout.py`` (500 deliveries over 50 PRs)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.e2e import BASE, INSTALLATION, PRS, REPO, pr_payload
from tests.fakegithub import FakeGitHub, app_private_key, serve_fake
from tests.fakemodel import FakeModel, serve_model
from tests.serve_process import free_port
from tests.webhook_helpers import SECRET, signed_headers

ROOT = Path(__file__).resolve().parent.parent
DIFF = (PRS / "ranking-v1.patch").read_text()
FILE = (PRS / "inference_v1.py").read_text()
LEAK = {
    "path": "service/inference.py",
    "line": 36,
    "side": "RIGHT",
    "severity": "high",
    "category": "security",
    "title": "Raw request body logged",
    "rationale": "Logging the request body leaks user data.",
}
APP_ID = 4242
TERMINAL = ("succeeded", "failed", "cancelled", "aborted")
SEND_ATTEMPTS = 10


def head(pr: int, push: int) -> str:
    """The head commit of push number ``push`` (1-based) of PR ``pr``."""
    return f"{pr:08x}{push:08x}".ljust(40, "c")


@dataclass(frozen=True)
class Delivery:
    pr: int
    push: int
    delivery_id: str
    body: bytes
    redelivery: bool


def plan(prs: int, pushes: int, redeliveries: int, seed: int, *, installations: int = 1) -> list[Delivery]:
    """``prs * (pushes + redeliveries)`` deliveries: per PR ``opened`` then ``synchronize`` pushes in order,
    plus redeliveries (same delivery id and body) of random earlier pushes; PRs interleaved at random.
    PR ``n`` belongs to installation ``INSTALLATION + n % installations``."""
    rng = random.Random(seed)
    per_pr: list[list[Delivery]] = []
    for pr in range(1, prs + 1):
        seq: list[Delivery] = []
        for push in range(1, pushes + 1):
            payload = pr_payload("opened" if push == 1 else "synchronize", number=pr, sha=head(pr, push))
            payload["installation"] = {"id": INSTALLATION + pr % installations}
            seq.append(Delivery(pr, push, str(uuid.uuid4()), json.dumps(payload).encode(), False))
        for _ in range(redeliveries):
            original = rng.choice(seq[:pushes])
            at = rng.randint(seq.index(original) + 1, len(seq))
            seq.insert(at, Delivery(pr, original.push, original.delivery_id, original.body, True))
        per_pr.append(seq)
    out: list[Delivery] = []
    while any(per_pr):
        seq = rng.choice([s for s in per_pr if s])
        out.append(seq.pop(0))
    return out


class Proc:
    """One ``archbot`` child process; output goes to files (no pipe can fill up)."""

    def __init__(self, args: list[str], env: dict[str, str], workdir: Path, name: str) -> None:
        self.name = name
        self.stderr_path = workdir / f"{name}.stderr"
        with (workdir / f"{name}.stdout").open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then SIGKILL if it does not stop in time; the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(timeout=15)


class Failed(Exception):
    """The world did not reach the expected state (the message says what and shows process output)."""


@dataclass
class World:
    db_url: str
    fake: FakeGitHub
    model: FakeModel
    env: dict[str, str]
    workdir: Path
    receivers: list[tuple[Proc, str]] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    resent: int = 0  # deliveries sent again after a 503 or no answer (``send``)

    def start_receiver(self) -> str:
        port = free_port()
        name = f"receiver-{len(self.receivers)}"
        proc = Proc(["serve", "--host", "127.0.0.1", "--port", str(port)], self.env, self.workdir, name)
        url = f"http://127.0.0.1:{port}"
        self.receivers.append((proc, url))
        return url

    def start_worker(self, concurrency: int, **env: str) -> Proc:
        name = f"worker-{len(self.workers)}"
        proc = Proc(["worker", "--concurrency", str(concurrency)], self.env | env, self.workdir, name)
        self.workers.append(proc)
        return proc

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Every receiver answers /readyz 200 (the database checked); every worker logged its start."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            for proc, url in self.receivers:
                while True:
                    self._check_alive(proc)
                    try:
                        if client.get(f"{url}/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    self._check_deadline(deadline, f"{proc.name} ready", proc)
                    time.sleep(0.05)
        for proc in self.workers:
            while "worker.started" not in proc.stderr():
                self._check_alive(proc)
                self._check_deadline(deadline, f"{proc.name} started", proc)
                time.sleep(0.05)

    @staticmethod
    def _check_alive(proc: Proc) -> None:
        if not proc.alive():
            raise Failed(f"{proc.name} exited with {proc.proc.returncode}:\n{proc.stderr()[-3000:]}")

    @staticmethod
    def _check_deadline(deadline: float, what: str, proc: Proc | None = None) -> None:
        if time.monotonic() > deadline:
            tail = proc.stderr()[-3000:] if proc is not None else ""
            raise Failed(f"{what}: timed out\n{tail}")

    def send(self, deliveries: list[Delivery], *, senders: int = 4, seed: int = 1) -> list[int]:
        """Send every delivery (per PR in order: PR n goes through sender n % senders) to a random receiver;
        the final HTTP statuses, in ``deliveries`` order. A delivery not acknowledged (503 "store
        unavailable, retry later" from an overloaded receiver, or no answer) is sent again, with the same
        delivery id, to the other receiver, as an operator's redelivery would; ``self.resent`` counts them."""
        rng = random.Random(seed)
        targets = [rng.randrange(len(self.receivers)) for _ in deliveries]
        statuses = [0] * len(deliveries)
        resent = [0] * senders

        def run(lane: int) -> None:
            with httpx.Client(timeout=15.0) as client:
                for i, d in enumerate(deliveries):
                    if d.pr % senders != lane:
                        continue
                    headers = signed_headers(d.body, "pull_request", delivery=d.delivery_id)
                    for attempt in range(SEND_ATTEMPTS):
                        url = self.receivers[(targets[i] + attempt) % len(self.receivers)][1]
                        try:
                            statuses[i] = client.post(f"{url}/webhook", content=d.body, headers=headers).status_code
                        except httpx.TransportError:
                            statuses[i] = 0
                        if statuses[i] not in (0, 503):
                            break
                        resent[lane] += 1
                        time.sleep(0.2 * (attempt + 1))

        threads = [threading.Thread(target=run, args=(lane,)) for lane in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.resent = sum(resent)
        return statuses

    # -- the database ---------------------------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())

    def jobs(self) -> list[tuple[str, str, int, str | None, str | None]]:
        """(idempotency key, procrastinate status, attempts, lease owner, last error) of every job."""
        return [
            (str(k), str(s), int(a), o, e)
            for k, s, a, o, e in self.query(
                "SELECT a.idempotency_key, p.status::text, a.attempts, a.lease_owner, a.last_error"
                " FROM archbot_jobs a JOIN procrastinate_jobs p ON p.id = a.job_id"
            )
        ]

    def running_on(self, worker: Proc) -> list[str]:
        """Idempotency keys of the jobs ``worker`` holds a lease on now."""
        pid = f":{worker.proc.pid}:"
        return [k for k, s, _, o, _ in self.jobs() if s == "doing" and o is not None and pid in o]

    def settled(self, expected_jobs: int) -> bool:
        jobs = self.jobs()
        return len(jobs) == expected_jobs and all(s in TERMINAL for _, s, *_ in jobs)

    def wait(self, predicate: Any, timeout: float, what: str) -> float:
        started = time.monotonic()
        while not predicate():
            for proc, _ in self.receivers:
                self._check_alive(proc)
            if time.monotonic() - started > timeout:
                tails = "\n".join(f"--- {p.name}\n{p.stderr()[-1500:]}" for p in self.workers if p.alive())
                raise Failed(f"{what}: not within {timeout:.0f} s\n{tails}")
            time.sleep(0.05)
        return time.monotonic() - started

    def metrics(self) -> str:
        with httpx.Client(timeout=5.0) as client:
            return client.get(f"{self.receivers[0][1]}/metrics").text

    def stop_all(self) -> None:
        for proc in self.workers + [p for p, _ in self.receivers]:
            if proc.alive():
                proc.proc.send_signal(signal.SIGTERM)
        for proc in self.workers + [p for p, _ in self.receivers]:
            try:
                proc.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill9()


def migrate(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_"))}
    env |= {"PYTHONPATH": str(ROOT), "ARCHBOT_DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "migrate"],
        check=False,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise Failed(f"archbot db migrate failed: {done.stderr}")


@contextmanager
def world(
    db_url: str,
    workdir: Path,
    *,
    prs: int,
    final_push: int,
    model_latency: float,
    lease_seconds: float,
    installations: int = 1,
) -> Iterator[World]:
    """The fake GitHub (every PR already at its final head: older pushes are stale when a worker reaches
    them), the fake model answering after ``model_latency`` seconds, a migrated database; no process yet."""
    migrate(db_url)
    key = app_private_key()
    fake = FakeGitHub(app_id=APP_ID, slug="archbot", private_key=key)
    for n in range(installations):
        fake.add_installation(INSTALLATION + n)
    fake.add_repo(REPO)
    for pr in range(1, prs + 1):
        fake.add_pr(
            REPO, pr, diff=DIFF, head_sha=head(pr, final_push), base_sha=BASE, head_files={"service/inference.py": FILE}
        )
    model = FakeModel()
    model.script("submit_review", {"summary": "Logs user data.", "findings": [LEAK]})
    model.latency = model_latency
    with ExitStack() as stack:
        github_url = stack.enter_context(serve_fake(fake))
        model_url = stack.enter_context(serve_model(model))
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_"))}
        env |= {
            "PYTHONPATH": str(ROOT),
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_PRIVATE_KEY": key,
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": github_url,
            "ARCHBOT_DATABASE_URL": db_url,
            "ARCHBOT_LOG_LEVEL": "INFO",
            "ARCHBOT_LOG_FORMAT": "json",
            "ARCHBOT_WORKER_LEASE_SECONDS": str(lease_seconds),
            "ANTHROPIC_API_KEY": "sk-ant-test-key",
            "ANTHROPIC_BASE_URL": model_url,
        }
        w = World(db_url, fake, model, env, workdir)
        try:
            yield w
        finally:
            w.stop_all()


@dataclass
class Outcome:
    """What a run ended with, checked against the issue's guarantees by ``problems()``."""

    prs: int
    pushes: int
    deliveries: int
    statuses: list[int]
    delivery_ids: int
    recorded_deliveries: int
    jobs: list[tuple[str, str, int, str | None, str | None]]
    reviews: dict[int, list[str]]  # PR -> commit ids of archbot's reviews
    seconds: float

    def states(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, s, *_ in self.jobs:
            out[s] = out.get(s, 0) + 1
        return out

    def superseded_queued(self) -> int:
        return sum(1 for _, s, _, _, e in self.jobs if s == "cancelled" and (e or "").startswith("superseded by"))

    def superseded_running(self) -> int:
        return sum(1 for _, s, _, _, e in self.jobs if s == "cancelled" and "head moved" in (e or ""))

    def duplicates(self) -> int:
        return sum(max(len(r) - 1, 0) for r in self.reviews.values())

    def problems(self) -> list[str]:
        out = []
        if any(s != 202 for s in self.statuses):
            out.append(f"not every delivery was accepted: {sorted(set(self.statuses))}")
        if self.recorded_deliveries != self.delivery_ids:
            out.append(f"{self.delivery_ids} delivery ids sent, {self.recorded_deliveries} recorded")
        keys = {k for k, *_ in self.jobs}
        for pr in range(1, self.prs + 1):
            for push in range(1, self.pushes + 1):
                if f"review_pr:{REPO}#{pr}@{head(pr, push)}:incr" not in keys:
                    out.append(f"lost: no job for PR {pr} push {push}")
            final = f"review_pr:{REPO}#{pr}@{head(pr, self.pushes)}:incr"
            state = next((s for k, s, *_ in self.jobs if k == final), None)
            if state != "succeeded":
                out.append(f"PR {pr}: the latest head's job ended {state}")
            if self.reviews.get(pr, []) != [head(pr, self.pushes)]:
                out.append(f"PR {pr}: reviews of {self.reviews.get(pr, [])}, expected one of its latest head")
        failed = [k for k, s, *_ in self.jobs if s not in ("succeeded", "cancelled")]
        if failed:
            out.append(f"jobs not done or superseded: {failed}")
        return out


def outcome(
    w: World, deliveries: list[Delivery], statuses: list[int], *, prs: int, pushes: int, seconds: float
) -> Outcome:
    [(recorded,)] = w.query("SELECT COUNT(*) FROM archbot_deliveries")
    reviews = {
        pr: [r.commit_id for r in w.fake.reviews(REPO, pr) if r.author.login == w.fake.bot.login]
        for pr in range(1, prs + 1)
    }
    return Outcome(
        prs=prs,
        pushes=pushes,
        deliveries=len(deliveries),
        statuses=statuses,
        delivery_ids=len({d.delivery_id for d in deliveries}),
        recorded_deliveries=int(recorded),
        jobs=w.jobs(),
        reviews=reviews,
        seconds=seconds,
    )
