"""Webhook ack latency under load: DESIGN step 1 target, p99 under 20 ms at 200 deliveries/s, 0 lost.

Usage::

    python bench/webhook_load.py [--rate 200] [--seconds 10] [--prs 0] [--concurrency 64] [--samples F.csv]
    python bench/webhook_load.py --url http://127.0.0.1:8000/webhook --secret S [--db ./archbot.db]
    python bench/webhook_load.py --reviews --prs 20 [--installations 10] [--github-latency 1] [--model-latency 3]

``--reviews`` (issue 17) runs real reviews WHILE the load goes on: the fake GitHub answers every call
``--github-latency`` s late and a fake model (``tests/fakemodel.py``, same process) ``--model-latency`` s
late; PRs are spread over ``--installations`` installations (writes are paced a second apart per
installation). Each PR's head is the sha of its last delivery, so exactly that job reviews and the
earlier ones are superseded. After the load it waits for every job to end, then counts at the fake,
per head sha, reviews, summaries and completed check runs: exactly one each for every PR's head and
none for a superseded sha (``duplicates``, ``stale`` and ``missing`` must be 0).

By default it starts everything itself, on loopback only: a fake GitHub (``tests/fakegithub.py``, in a
process of its own so it does not share the load generator's CPU) and the real ``archbot serve`` as a
subprocess exactly as ``tests/test_serve.py`` does, with a fresh SQLite store. The fake answers
``GET /app``, knows the installation and the repository of the fixture, and holds every PR with a head
sha no delivery carries: the worker inside the server really runs the jobs during the load (token
exchange, diff, GraphQL context) and each ends ``superseded`` ("head moved on"), which keeps the worker
busy on the same process, loop and store without making the fake the bottleneck. The measure is the
webhook answer, not the review.

Each delivery is a signed ``pull_request`` ``opened`` event with its own delivery id and head sha (so each
makes one job). With ``--prs 0`` (default) every delivery is for its own PR, so every job runs; with
``--prs N`` they are spread over N PRs and newer jobs also supersede older queued ones at intake.
Sending is open-loop: delivery ``i`` is due at ``start + i / rate`` whatever the server does, and its
latency is measured from that due time, so a slow server is not hidden by a client that waits for it
(coordinated omission). At most ``--concurrency`` requests are in flight (keep-alive connections over
plain asyncio streams, to keep the client's own overhead small); a request waiting for a connection is
late, and that counts.

Afterwards the SQLite file is opened read-only and every delivery answered 202 must have its job there:
``lost`` = deliveries answered 202 whose job is missing. The exit code is 0 when the target holds
(p99 < 20 ms, no non-2xx, nothing lost), 1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import ipaddress
import json
import math
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.webhooks import sign  # noqa: E402 - after the sys.path line, to run from anywhere

FIXTURE = ROOT / "tests" / "fixtures" / "github-webhooks" / "pull_request" / "opened.payload.json"
TARGET_P99_MS = 20.0
REQUEST_TIMEOUT = 10.0
IDLE_REUSE_S = 4.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
APP_ID = 4242
FAKE_DIFF = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1,2 @@\n x = 1\n+y = 2\n"
BENCH_SECRET = "bench-webhook-secret"  # noqa: S105 - a throwaway secret for a loopback run
INSTALLATION_BASE = 900_000
REVIEW_FILE = "service/app.py"
REVIEW_DIFF = (
    "diff --git a/service/app.py b/service/app.py\n--- a/service/app.py\n+++ b/service/app.py\n"
    "@@ -1,2 +1,4 @@\n import asyncio\n+import time\n+\n async def handler() -> None:\n"
)
REVIEW_HEAD = "import asyncio\nimport time\n\nasync def handler() -> None:\n    time.sleep(1)\n"
REVIEW_FINDING = {
    "path": REVIEW_FILE,
    "line": 2,
    "side": "RIGHT",
    "severity": "high",
    "category": "concurrency",
    "title": "time imported for a blocking sleep",
    "rationale": "time.sleep in an async handler blocks the event loop.",
}
TERMINAL_STATES = {"done", "failed", "superseded"}


# -- deliveries ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One prepared request: its bytes on the wire and the job key it must produce."""

    delivery_id: str
    job_key: str
    wire: bytes


def review_sha(number: int, round_: int) -> str:
    """The head sha of the ``round_``-th delivery for PR ``number`` (``--reviews``: the fake knows them)."""
    return hashlib.sha1(f"bench:{number}:{round_}".encode()).hexdigest()  # noqa: S324 - a name, not a hash


def installation_of(number: int, installations: int) -> int:
    """``--reviews``: PRs are spread over ``installations`` installations (writes are paced per installation)."""
    return INSTALLATION_BASE + number % installations


def build_deliveries(
    count: int, *, host: str, path: str, secret: str, prs: int, offset: int = 0, installations: int = 0
) -> list[Delivery]:
    """``count`` signed pull_request deliveries (built before the clock starts); delivery ``i`` is for PR
    ``(offset + i) % prs + 1``. With ``installations`` (``--reviews``) each PR's heads follow ``review_sha``
    and its installation ``installation_of``; otherwise heads are random and the fixture's installation."""
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))
    repo = base["repository"]["full_name"]
    out: list[Delivery] = []
    for i in range(count):
        number = (offset + i) % prs + 1
        sha = review_sha(number, (offset + i) // prs) if installations else secrets.token_hex(20)
        payload = dict(base)
        if installations:
            payload["installation"] = dict(base["installation"], id=installation_of(number, installations))
        payload["number"] = number
        payload["pull_request"] = dict(base["pull_request"], number=number, head=dict(base["pull_request"]["head"]))
        payload["pull_request"]["head"]["sha"] = sha
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery_id = str(uuid.uuid4())
        head = (
            f"POST {path} HTTP/1.1\r\n"
            f"Host: {host}\r\n"
            "User-Agent: GitHub-Hookshot/bench\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "X-GitHub-Event: pull_request\r\n"
            f"X-GitHub-Delivery: {delivery_id}\r\n"
            f"X-Hub-Signature-256: {sign(body, secret)}\r\n"
            "\r\n"
        ).encode()
        out.append(Delivery(delivery_id, f"review_pr:{repo}#{number}@{sha}:incr", head + body))
    return out


# -- a small keep-alive HTTP/1.1 client ------------------------------------------------------------------


class ProtocolError(Exception):
    """The server's answer was not an HTTP/1.1 response this client can read."""


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Pool:
    """At most ``size`` keep-alive connections to one server; requests beyond that wait for a free one.

    An idle connection is reused only while younger than ``IDLE_REUSE_S`` (below uvicorn's 5 s keep-alive
    timeout), so the client does not race the server closing it; the server may still close one first, and a
    request that got no byte back on a REUSED connection is sent once more on a new one (what HTTP clients
    do), its latency still counted from the due time."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[Conn, float]] = []  # (connection, time it became idle), most recent last
        self._all: set[asyncio.StreamWriter] = set()
        self.opened = 0
        self.resent = 0

    def _take_idle(self) -> Conn | None:
        now = time.perf_counter()
        while self._idle:
            conn, since = self._idle.pop()
            if now - since < IDLE_REUSE_S and not conn[0].at_eof():
                return conn
            self._drop(conn)
        return None

    async def request(self, wire: bytes) -> tuple[int, float]:
        """Send one request; returns (status, time the bytes were handed to the socket)."""
        async with self._slots:
            conn = self._take_idle()
            reused = conn is not None
            if conn is None:
                conn = await self._connect()
            sent = time.perf_counter()
            try:
                status, keep = await _roundtrip(conn, wire)
            except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
                self._drop(conn)
                if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise
                self.resent += 1  # the server closed the idle connection before reading the request
                conn = await self._connect()
                sent = time.perf_counter()
                try:
                    status, keep = await _roundtrip(conn, wire)
                except BaseException:
                    self._drop(conn)
                    raise
            except BaseException:
                self._drop(conn)
                raise
            if keep:
                self._idle.append((conn, time.perf_counter()))
            else:
                self._drop(conn)
            return status, sent

    async def _connect(self) -> Conn:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._all.add(writer)
        self.opened += 1
        return reader, writer

    def _drop(self, conn: Conn) -> None:
        conn[1].close()
        self._all.discard(conn[1])

    async def close(self) -> None:
        for writer in list(self._all):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self._all.clear()
        self._idle.clear()


async def _roundtrip(conn: Conn, wire: bytes) -> tuple[int, bool]:
    reader, writer = conn
    writer.write(wire)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ProtocolError(f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ProtocolError("response without content-length")
    await reader.readexactly(int(headers["content-length"]))
    return int(parts[1]), headers.get("connection", "").lower() != "close"


async def http_get(host: str, port: int, path: str, *, limit: float = 5.0) -> tuple[int, str]:
    """One GET on a fresh connection (health checks, /metrics), within ``limit`` seconds."""
    async with asyncio.timeout(limit):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode("utf-8", errors="replace")


# -- the load --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    """What happened to one delivery (times from ``time.perf_counter``)."""

    due: float
    sent: float = math.nan
    done: float = math.nan
    status: int = 0
    error: str = ""


@dataclass
class RunResult:
    samples: list[Sample]
    elapsed: float
    late_starts: int  # deliveries the scheduler itself started more than 1 ms after their due time
    connections: int
    resent: int  # requests sent again after the server closed an idle keep-alive connection
    errors: dict[str, int] = field(default_factory=dict)


async def run_load(deliveries: list[Delivery], *, host: str, port: int, rate: float, concurrency: int) -> RunResult:
    """Send ``deliveries`` open-loop at ``rate`` per second; latency counts from each due time."""
    pool = Pool(host, port, concurrency)
    samples = [Sample(due=0.0) for _ in deliveries]
    tasks: set[asyncio.Task[None]] = set()
    late = 0

    async def one(index: int) -> None:
        sample = samples[index]
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                sample.status, sample.sent = await pool.request(deliveries[index].wire)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError) as exc:
            sample.error = type(exc).__name__
        sample.done = time.perf_counter()

    start = time.perf_counter() + 0.05
    try:
        for i in range(len(deliveries)):
            due = start + i / rate
            samples[i].due = due
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.001:
                late += 1
            task = asyncio.create_task(one(i))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(set(tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.close()
    errors: dict[str, int] = {}
    for s in samples:
        if s.error:
            errors[s.error] = errors.get(s.error, 0) + 1
    return RunResult(samples, time.perf_counter() - start, late, pool.opened, pool.resent, errors)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# -- the servers -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


def serve_fake_forever() -> int:
    """``--serve-fake``: serve the fake GitHub (and with ``BENCH_INSTALLATIONS`` the fake model), print
    their URLs, and when stdin closes print what was posted (JSON) and stop."""
    from tests.fakegithub import FakeGitHub, serve_fake

    fake = FakeGitHub(app_id=APP_ID, slug="archbot-bench", private_key=os.environ["BENCH_FAKE_KEY"])
    repo = os.environ["BENCH_REPO"]
    fake.add_installation(int(os.environ["BENCH_INSTALLATION"]))
    fake.add_repo(repo)
    prs = int(os.environ["BENCH_PRS"])
    installations = int(os.environ.get("BENCH_INSTALLATIONS", "0"))
    if not installations:
        for number in range(1, prs + 1):
            # Each PR's head is a sha no delivery carries: every job finds its head moved on and ends
            # superseded after two reads, so the worker stays busy but cheap, and so does this fake.
            fake.add_pr(repo, number, diff=FAKE_DIFF, head_sha=f"{number:040x}", base_sha="f" * 40)
        with serve_fake(fake) as base_url:
            sys.stdout.write(base_url + "\n")
            sys.stdout.flush()
            sys.stdin.read()
        return 0
    return _serve_review_fakes(fake, repo, prs=prs, installations=installations)


def final_rounds(total: int, prs: int) -> dict[int, int]:
    """PR number -> the round of its last delivery, for ``total`` deliveries over ``prs`` PRs."""
    return {number: (total - number) // prs for number in range(1, min(prs, total) + 1)}


def _serve_review_fakes(fake: object, repo: str, *, prs: int, installations: int) -> int:
    """``--reviews``: each PR's head is the sha of its LAST delivery, so exactly that job reviews and the
    earlier ones end superseded (at intake, or when the job sees the head moved on). GitHub answers every
    call ``BENCH_GITHUB_LATENCY`` s late, the model ``BENCH_MODEL_LATENCY`` s late."""
    from tests.fakegithub import FakeGitHub, serve_fake
    from tests.fakemodel import FakeModel, serve_model

    assert isinstance(fake, FakeGitHub)
    for i in range(installations):
        fake.add_installation(INSTALLATION_BASE + i)
    total = int(os.environ["BENCH_TOTAL"])
    finals = final_rounds(total, prs)
    shas: dict[int, set[str]] = {}
    for g in range(total):
        shas.setdefault(g % prs + 1, set()).add(review_sha(g % prs + 1, g // prs))
    for number, round_ in finals.items():
        fake.add_pr(
            repo,
            number,
            diff=REVIEW_DIFF,
            head_sha=review_sha(number, round_),
            base_sha="f" * 40,
            head_files={REVIEW_FILE: REVIEW_HEAD},
        )
    fake.latency = float(os.environ["BENCH_GITHUB_LATENCY"])
    model = FakeModel(latency=float(os.environ["BENCH_MODEL_LATENCY"]))
    model.script("submit_review", {"summary": "Blocks the loop.", "findings": [REVIEW_FINDING]})
    with serve_fake(fake) as base_url, serve_model(model) as model_url:
        sys.stdout.write(f"{base_url} {model_url}\n")
        sys.stdout.flush()
        sys.stdin.read()
        report = {
            "posts": {str(number): posted_at(fake, repo, number, shas[number]) for number in finals},
            "finals": {str(number): review_sha(number, round_) for number, round_ in finals.items()},
            "token_exchanges": fake.token_exchanges,
            "model_calls": len(model.requests),
        }
        sys.stdout.write(json.dumps(report) + "\n")
        sys.stdout.flush()
    return 0


def posted_at(fake: object, repo: str, number: int, shas: set[str]) -> dict[str, dict[str, int]]:
    """What the fake holds for PR ``number`` (whose deliveries carried ``shas``): reviews and check runs
    (all, and completed) per head sha, and archbot's summary comments per the sha their marker names."""
    from app.review.markers import parse_marker
    from tests.fakegithub import FakeGitHub

    assert isinstance(fake, FakeGitHub)
    out: dict[str, dict[str, int]] = {"reviews": {}, "checks": {}, "checks_completed": {}, "summaries": {}}

    def add(kind: str, sha: str) -> None:
        out[kind][sha] = out[kind].get(sha, 0) + 1

    for review in fake.reviews(repo, number):
        add("reviews", review.commit_id)
    for run in fake.check_runs(repo):
        if run.head_sha in shas:
            add("checks", run.head_sha)
            if run.status == "completed":
                add("checks_completed", run.head_sha)
    for comment in fake.comments(repo, number):
        data = parse_marker(comment.body, "summary")
        if data is not None:
            add("summaries", str(data.get("sha")))
    return out


@dataclass(frozen=True, slots=True)
class Reviews:
    """``--reviews``: real reviews run during the load, against slow fakes."""

    installations: int
    total: int  # deliveries, warm-up included
    github_latency: float
    model_latency: float
    worker_concurrency: int


@dataclass(frozen=True, slots=True)
class Servers:
    host: str
    port: int
    db: Path
    server: subprocess.Popen[bytes]
    fake: subprocess.Popen[bytes]


@contextlib.contextmanager
def local_servers(workdir: Path, prs: int, reviews: Reviews | None = None) -> Iterator[Servers]:
    """Start the fake GitHub (and model) and ``archbot serve`` on loopback."""
    key = _rsa_pem()
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    fake_env = {
        "BENCH_FAKE_KEY": key,
        "BENCH_REPO": fixture["repository"]["full_name"],
        "BENCH_INSTALLATION": str(fixture["installation"]["id"]),
        "BENCH_PRS": str(prs),
    }
    if reviews is not None:
        fake_env |= {
            "BENCH_INSTALLATIONS": str(reviews.installations),
            "BENCH_TOTAL": str(reviews.total),
            "BENCH_GITHUB_LATENCY": str(reviews.github_latency),
            "BENCH_MODEL_LATENCY": str(reviews.model_latency),
        }
    children: list[subprocess.Popen[bytes]] = []
    try:
        fake = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve-fake"],
            env=_clean_env() | fake_env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        children.append(fake)
        assert fake.stdout is not None
        api_url, _, model_url = fake.stdout.readline().decode().strip().partition(" ")
        if not api_url.startswith("http://127.0.0.1:"):
            raise RuntimeError("the fake GitHub did not start")
        port = _free_port()
        db = workdir / "archbot.db"
        env = _clean_env() | {
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_PRIVATE_KEY": key,
            "GITHUB_WEBHOOK_SECRET": BENCH_SECRET,
            "GITHUB_API_URL": api_url,
            "ARCHBOT_DATABASE_URL": f"sqlite:///{db}",
        }
        if reviews is not None:
            env |= {
                "ANTHROPIC_API_KEY": "sk-ant-bench-key",
                "ANTHROPIC_BASE_URL": model_url,
                "ARCHBOT_WORKER_CONCURRENCY": str(reviews.worker_concurrency),
            }
        with (workdir / "serve.stderr").open("wb") as err:
            server = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        children.append(server)
        yield Servers("127.0.0.1", port, db, server, fake)
    finally:
        for child in reversed(children):
            if child.stdin is not None and not child.stdin.closed:
                child.stdin.close()  # the fake stops when its stdin closes
            elif child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()


async def wait_healthy(host: str, port: int, server: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"archbot serve exited with {server.returncode} before it was healthy")
        with contextlib.suppress(OSError, TimeoutError, ValueError, IndexError):
            if (await http_get(host, port, "/healthz", limit=1.0))[0] == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("archbot serve did not become healthy")
        await asyncio.sleep(0.1)


# -- results ---------------------------------------------------------------------------------------------


def jobs_found(db: Path, keys: list[str]) -> tuple[int, dict[str, int]]:
    """How many of ``keys`` have a job row in the store (opened read-only), and all jobs by state."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        stored = {row[0] for row in conn.execute("SELECT idempotency_key FROM jobs")}
        states = {str(row[0]): int(row[1]) for row in conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state")}
    finally:
        conn.close()
    return sum(1 for key in keys if key in stored), states


def server_histogram(metrics: str) -> tuple[float, float] | None:
    """(deliveries answered within 20 ms, all deliveries) from the server's own ack histogram."""
    under = total = None
    for line in metrics.splitlines():
        if line.startswith('archbot_webhook_ack_seconds_bucket{le="0.02"}'):
            under = float(line.rsplit(" ", 1)[1])
        elif line.startswith("archbot_webhook_ack_seconds_count"):
            total = float(line.rsplit(" ", 1)[1])
    return None if under is None or total is None else (under, total)


def write_samples(path: Path, result: RunResult) -> None:
    """One line per delivery: seconds since the first due time, ack latency in ms, status, error."""
    first = result.samples[0].due if result.samples else 0.0
    lines = ["due_s,latency_ms,status,error"]
    lines += [f"{s.due - first:.4f},{(s.done - s.due) * 1000:.3f},{s.status},{s.error}" for s in result.samples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def report(
    result: RunResult, deliveries: list[Delivery], args: argparse.Namespace, db: Path | None
) -> tuple[dict[str, object], bool]:
    """Print the figures; returns them and whether the DESIGN target holds."""
    answered = [s for s in result.samples if not s.error]
    latencies = sorted(s.done - s.due for s in answered)
    service = sorted(s.done - s.sent for s in answered)
    accepted_keys = [d.job_key for d, s in zip(deliveries, result.samples, strict=True) if s.status == 202]
    non_2xx = sum(1 for s in answered if not 200 <= s.status < 300)
    found, states = jobs_found(db, accepted_keys) if db is not None else (None, {})
    summary: dict[str, object] = {
        "rate": args.rate,
        "seconds": args.seconds,
        "sent": len(result.samples),
        "achieved_rate": round(len(result.samples) / result.elapsed, 1),
        "answered": len(answered),
        "errors": result.errors,
        "non_2xx": non_2xx,
        "accepted_202": len(accepted_keys),
        "jobs_found": found,
        "lost": None if found is None else len(accepted_keys) - found,
        "job_states": states,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "service_p99_ms": round(percentile(service, 99) * 1000, 2),
        "late_starts": result.late_starts,
        "connections": result.connections,
        "resent": result.resent,
    }
    print(
        f"deliveries     {len(result.samples)} in {result.elapsed:.2f} s"
        f" ({summary['achieved_rate']}/s, asked {args.rate}/s)"
    )
    print(f"answered       {len(answered)}; transport errors {result.errors or 0}; non-2xx {non_2xx}")
    print(
        f"ack latency    p50 {_ms(percentile(latencies, 50))}  p95 {_ms(percentile(latencies, 95))}  "
        f"p99 {_ms(percentile(latencies, 99))}  max {_ms(latencies[-1]) if latencies else '-'}  (from due time)"
    )
    print(f"service time   p50 {_ms(percentile(service, 50))}  p99 {_ms(percentile(service, 99))}  (from send)")
    print(
        f"client         {result.connections} connections, {result.resent} resent on a closed keep-alive"
        f" connection; {result.late_starts} sends started >1 ms late"
    )
    if found is None:
        print(f"202 answers    {len(accepted_keys)}; lost: not checked (no --db)")
    else:
        print(f"202 answers    {len(accepted_keys)}; jobs in the store {found}; lost {len(accepted_keys) - found}")
        print(f"jobs by state  {states} (the worker ran during the load)")
    ok = (
        not result.errors
        and non_2xx == 0
        and (found is None or found == len(accepted_keys))
        and percentile(latencies, 99) * 1000 < TARGET_P99_MS
    )
    return summary, ok


def _reviews(args: argparse.Namespace, count: int) -> Reviews | None:
    if not args.reviews:
        return None
    return Reviews(
        installations=args.installations,
        total=count + int(args.warmup),
        github_latency=args.github_latency,
        model_latency=args.model_latency,
        worker_concurrency=args.worker_concurrency,
    )


async def _main(args: argparse.Namespace) -> int:
    count = max(1, round(args.rate * args.seconds))
    with tempfile.TemporaryDirectory(prefix="archbot-bench-") as tmp:
        if args.url:
            parts = urlsplit(args.url)
            host, port, path = parts.hostname or "", parts.port or 80, parts.path or "/webhook"
            secret = args.secret or os.environ.get("GITHUB_WEBHOOK_SECRET", "")
            if not secret:
                print("webhook_load: --url needs --secret or GITHUB_WEBHOOK_SECRET", file=sys.stderr)
                return 2
            return await _bench(
                args,
                host=host,
                port=port,
                path=path,
                secret=secret,
                db=Path(args.db) if args.db else None,
                server=None,
                count=count,
            )
        reviews = _reviews(args, count)
        with local_servers(Path(tmp), _prs(args, count), reviews) as servers:
            host, port, db, server = servers.host, servers.port, servers.db, servers.server
            code = await _bench(
                args, host=host, port=port, path="/webhook", secret=BENCH_SECRET, db=db, server=server, count=count
            )
            if reviews is not None:
                drained = await wait_drained(db, args.drain_timeout)
                print(f"jobs drained   {'yes' if drained else 'NO'} ({jobs_found(db, [])[1]})")
                code = code or (0 if drained else 1)
            server.send_signal(signal.SIGTERM)
            started = time.monotonic()
            exit_code = await asyncio.to_thread(server.wait, STOP_TIMEOUT)
            print(f"server stop    SIGTERM -> exit {exit_code} in {time.monotonic() - started:.2f} s")
            log = (Path(tmp) / "serve.stderr").read_text(encoding="utf-8", errors="replace")
            tracebacks = sum(1 for line in log.splitlines() if line.startswith("Traceback"))
            if exit_code != 0 or tracebacks:
                print(f"server         exit {exit_code}, {tracebacks} bare tracebacks on stderr", file=sys.stderr)
                code = 1
            if reviews is not None:
                posts = read_posts(servers.fake)
                figures = check_posts(posts)
                if os.environ.get("BENCH_DEBUG"):
                    print(json.dumps(posts)[:3000])
                print(json.dumps({"posts": figures}, sort_keys=True))
                ok = figures["duplicates"] == 0 and figures["missing"] == 0 and figures["stale"] == 0
                print(f"posts          exactly once per PR's final head: {'YES' if ok else 'NO'}")
                code = code or (0 if ok else 1)
            return code


async def wait_drained(db: Path, limit: float) -> bool:
    """Wait until every job in the store is done, failed or superseded."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        states = jobs_found(db, [])[1]
        if states and set(states) <= TERMINAL_STATES:
            return True
        await asyncio.sleep(0.5)
    return False


def read_posts(fake: subprocess.Popen[bytes]) -> dict[str, object]:
    """Close the fake's stdin; it answers with what was posted (one JSON line)."""
    assert fake.stdin is not None and fake.stdout is not None
    fake.stdin.close()
    line = fake.stdout.readline().decode()
    posts: dict[str, object] = json.loads(line)
    return posts


def check_posts(posts: dict[str, object]) -> dict[str, int]:
    """Reviews, summaries and completed check runs: exactly one each for every PR's final head sha;
    ``duplicates`` counts posts beyond one per sha, ``stale`` posts for a sha that is not the PR's head
    (a superseded job that posted), ``missing`` final heads without all three."""
    finals = posts["finals"]
    per_pr = posts["posts"]
    assert isinstance(finals, dict) and isinstance(per_pr, dict)
    duplicates = missing = stale = complete = 0
    for number, final in finals.items():
        counts = per_pr[number]
        for kind in ("reviews", "summaries", "checks_completed", "checks"):
            for sha, n in counts[kind].items():
                duplicates += max(0, n - 1)
                if sha != final and kind != "checks":  # a superseded job may open (and close) its check run
                    stale += n
        if all(counts[kind].get(final) == 1 for kind in ("reviews", "summaries", "checks_completed")):
            complete += 1
        else:
            missing += 1
    exchanges, calls = posts["token_exchanges"], posts["model_calls"]
    assert isinstance(exchanges, int) and isinstance(calls, int)
    return {
        "prs": len(finals),
        "complete": complete,
        "missing": missing,
        "duplicates": duplicates,
        "stale": stale,
        "token_exchanges": exchanges,
        "model_calls": calls,
    }


async def _bench(
    args: argparse.Namespace,
    *,
    host: str,
    port: int,
    path: str,
    secret: str,
    db: Path | None,
    server: subprocess.Popen[bytes] | None,
    count: int,
) -> int:
    await wait_healthy(host, port, server)
    prs = _prs(args, count)
    inst = args.installations if args.reviews else 0
    warmup = build_deliveries(args.warmup, host=host, path=path, secret=secret, prs=prs, installations=inst)
    deliveries = build_deliveries(
        count, host=host, path=path, secret=secret, prs=prs, offset=args.warmup, installations=inst
    )
    if warmup:
        await run_load(warmup, host=host, port=port, rate=min(args.rate, 50.0), concurrency=args.concurrency)
    before = server_histogram((await http_get(host, port, "/metrics"))[1])
    cpu_before = process_cpu(server)
    result = await run_load(deliveries, host=host, port=port, rate=args.rate, concurrency=args.concurrency)
    cpu = None if cpu_before is None else (process_cpu(server) or 0.0) - cpu_before
    summary, ok = report(result, deliveries, args, db)
    summary["load_average"] = [round(x, 2) for x in os.getloadavg()]
    summary["cpus"] = os.cpu_count()
    print(f"machine        load average {summary['load_average']} on {summary['cpus']} CPUs (shared machine?)")
    if cpu is not None:
        summary["server_cpu_ms_per_delivery"] = round(cpu * 1000 / max(1, len(deliveries)), 2)
        print(
            f"server CPU     {cpu:.2f} s during the load, {summary['server_cpu_ms_per_delivery']} ms per delivery"
            " (receiver and worker together)"
        )
    if args.samples:
        write_samples(Path(args.samples), result)
    after = server_histogram((await http_get(host, port, "/metrics"))[1])
    if before is not None and after is not None:
        under, total = after[0] - before[0], after[1] - before[1]
        print(f"server-side    {under:.0f}/{total:.0f} answered within 20 ms by the server's own histogram")
    print(json.dumps(summary, sort_keys=True))
    print(f"target         p99 < {TARGET_P99_MS:.0f} ms, no errors, 0 lost: {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


def process_cpu(process: subprocess.Popen[bytes] | None) -> float | None:
    """User + system CPU seconds of ``process`` so far (Linux ``/proc``), or None."""
    if process is None:
        return None
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _prs(args: argparse.Namespace, count: int) -> int:
    """Number of distinct PRs: ``--prs``, or one per delivery (warm-up included) when it is 0."""
    return int(args.prs) or count + int(args.warmup)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=200.0, help="deliveries per second (default 200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the run (default 10)")
    parser.add_argument("--url", help="target a running server's webhook URL instead (loopback only)")
    parser.add_argument("--secret", help="its webhook secret (default: GITHUB_WEBHOOK_SECRET)")
    parser.add_argument("--db", help="its SQLite file, to count lost deliveries (with --url)")
    parser.add_argument(
        "--prs", type=int, default=0, help="pull requests the deliveries are spread over (default 0: one each)"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="max requests in flight (default 64)")
    parser.add_argument("--warmup", type=int, default=20, help="deliveries sent before measuring (default 20)")
    parser.add_argument("--samples", help="write one CSV line per delivery (due offset, latency, status) here")
    parser.add_argument(
        "--reviews",
        action="store_true",
        help="run real reviews during the load (slow fake GitHub and model); needs --prs; checks posts",
    )
    parser.add_argument("--installations", type=int, default=10, help="--reviews: installations (default 10)")
    parser.add_argument("--github-latency", type=float, default=1.0, help="--reviews: s per GitHub call (1)")
    parser.add_argument("--model-latency", type=float, default=3.0, help="--reviews: s per model call (3)")
    parser.add_argument("--worker-concurrency", type=int, default=16, help="--reviews: jobs at once (16)")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="--reviews: s to wait for the jobs")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_fake:
        return serve_fake_forever()
    if args.rate <= 0 or args.seconds <= 0 or args.prs < 0 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--rate, --seconds, --prs and --concurrency must be positive")
    if args.reviews and (args.url or args.prs < 1 or args.installations < 1):
        parser.error("--reviews starts its own servers and needs --prs N and --installations >= 1")
    if args.url and not _loopback(args.url):
        parser.error("--url must point at a loopback address (127.0.0.1, ::1 or localhost)")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    raise SystemExit(main())
