"""``archbot serve`` as a real process: start-up checks, webhook intake into the SQLite store, the CLI's
test delivery, health/readiness/metrics, and a graceful SIGTERM. A fake GitHub on loopback answers
``GET /app``. Plus the prune helpers, in-process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.jobs import Job, JobKind
from app.queue.sqlite import SQLiteJobQueue
from app.serve import prune_forever, prune_once
from app.usage import SQLiteUsageLedger
from tests.fakegithub import FakeGitHub, serve_fake
from tests.webhook_helpers import SECRET, load_payload, signed_headers

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
PR_KEY = "review_pr:Codertocat/Hello-World#2@ec26c3e57ca3a959ca5aad62de7213c562f8c821:incr"
DAY = 86_400.0


def _rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _base_env() -> dict[str, str]:
    """The parent's environment without any archbot, GitHub or model settings, plus the project path."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def private_key() -> str:
    return _rsa_pem()


@pytest.fixture
def fake_github(private_key: str) -> Iterator[str]:
    fake = FakeGitHub(app_id=4242, slug="archbot-test", private_key=private_key)
    with serve_fake(fake) as base_url:
        yield base_url


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "archbot.db"


@pytest.fixture
def env(fake_github: str, private_key: str, db_path: Path) -> dict[str, str]:
    return _base_env() | {
        "GITHUB_APP_ID": "4242",
        "GITHUB_PRIVATE_KEY": private_key,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": fake_github,
        "ARCHBOT_DATABASE_URL": f"sqlite:///{db_path}",
        "ARCHBOT_LOG_LEVEL": "INFO",
    }


class ServerProcess:
    """``archbot serve`` in a child process; its output goes to files (no pipe can fill up)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = workdir / "serve.stdout"
        self.stderr_path = workdir / "serve.stderr"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while True:
                if self.proc.poll() is not None:
                    pytest.fail(f"archbot serve exited with {self.proc.returncode}:\n{self.stderr()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"archbot serve not healthy after {timeout}s:\n{self.stderr()}")
                time.sleep(0.05)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """Always called: the child never outlives the test."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.kill()


def _start(env: dict[str, str], tmp_path: Path, started: list[ServerProcess]) -> ServerProcess:
    server = ServerProcess(env, tmp_path)
    started.append(server)
    return server


def _run_cli(args: list[str], env: dict[str, str], timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _job_states(db_path: Path, key: str) -> list[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT state FROM jobs WHERE idempotency_key = ?", (key,))]
    finally:
        conn.close()


def test_serve_accepts_deliveries_and_stops_on_sigterm(
    env: dict[str, str], tmp_path: Path, db_path: Path, server_factory: list[ServerProcess]
) -> None:
    server = _start(env, tmp_path, server_factory)
    server.wait_healthy()

    sent = _run_cli(["send-test-delivery", "--url", f"{server.url}/webhook"], env)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("200 "), sent.stdout

    body = json.dumps(load_payload("pull_request", "opened.payload.json")).encode()
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        r = client.post("/webhook", content=body, headers=signed_headers(body, "pull_request"))
        assert r.status_code == 202, r.text
        assert r.json() == {"ok": True, "jobs": 1}
        assert len(_job_states(db_path, PR_KEY)) == 1  # durable before the answer

        bad = client.post("/webhook", content=body, headers=signed_headers(body, "pull_request", secret="wrong"))
        assert bad.status_code == 401

        assert client.get("/readyz").json() == {"status": "ready"}
        metrics = client.get("/metrics").text
        enqueued = 'archbot_webhook_deliveries_total{action="opened",event="pull_request",outcome="enqueued"} 1.0'
        assert enqueued in metrics
        assert 'outcome="ping"} 1.0' in metrics
        assert "archbot_worker_running 1.0" in metrics

    started = time.monotonic()
    assert server.terminate() == 0, server.stderr()
    assert time.monotonic() - started < 10
    log = server.stderr()
    assert not [line for line in log.splitlines() if line.startswith("Traceback")], log  # crashes are logged as JSON
    assert '"event": "worker.stopped"' in log
    assert len(_job_states(db_path, PR_KEY)) == 1  # the store survives the stop


def test_send_test_delivery_pull_request_queues_a_review(
    env: dict[str, str], tmp_path: Path, db_path: Path, server_factory: list[ServerProcess]
) -> None:
    server = _start(env, tmp_path, server_factory)
    server.wait_healthy()
    webhook = f"{server.url}/webhook"
    sha = "c" * 40
    pr_args = ["--repo", "octo/app", "--pr", "12", "--installation", "77", "--head-sha", sha]

    sent = _run_cli(["send-test-delivery", "--url", webhook, "--event", "pull_request", *pr_args], env)
    assert sent.returncode == 0, sent.stderr
    status, _, answer = sent.stdout.strip().partition(" ")
    assert (status, json.loads(answer)) == ("202", {"ok": True, "jobs": 1})
    assert len(_job_states(db_path, f"review_pr:octo/app#12@{sha}:incr")) == 1

    # a usage error is refused before anything is sent
    incomplete = _run_cli(["send-test-delivery", "--url", webhook, "--event", "pull_request", *pr_args[:4]], env)
    assert incomplete.returncode == 2, incomplete.stderr
    assert "needs --installation ID" in incomplete.stderr and incomplete.stdout == ""
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        metrics = client.get("/metrics").text
    line = 'archbot_webhook_deliveries_total{action="opened",event="pull_request",outcome="enqueued"} 1.0'
    assert line in metrics
    assert server.terminate() == 0, server.stderr()


def test_send_test_delivery_help_lists_only_events_it_sends(env: dict[str, str]) -> None:
    shown = _run_cli(["send-test-delivery", "--help"], env)
    assert shown.returncode == 0 and "{ping,pull_request}" in shown.stdout and "--installation" in shown.stdout
    refused = _run_cli(["send-test-delivery", "--event", "push"], env)
    assert refused.returncode == 2 and "invalid choice: 'push'" in refused.stderr


@dataclass(frozen=True)
class Outcome:
    """How one ``archbot serve`` start ended."""

    returncode: int
    stderr: str


def _run_to_exit(cases: dict[str, tuple[list[str], dict[str, str]]], tmp_path: Path) -> dict[str, Outcome]:
    """Run ``archbot <args>`` once per case, all at once (each start pays the interpreter's import time)."""
    procs: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    try:
        for name, (args, case_env) in cases.items():
            err_path = tmp_path / f"{name}.stderr"
            with err_path.open("wb") as err:
                procs[name] = (
                    subprocess.Popen(
                        [sys.executable, "-m", "app.cli", *args],
                        env=case_env,
                        cwd=ROOT,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                    ),
                    err_path,
                )
        return {
            name: Outcome(proc.wait(timeout=START_TIMEOUT), path.read_text(encoding="utf-8", errors="replace"))
            for name, (proc, path) in procs.items()
        }
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


def _start_failures(env: dict[str, str], tmp_path: Path) -> dict[str, Outcome]:
    """Start one server per broken setting."""
    no_secret = {k: v for k, v in env.items() if k != "GITHUB_WEBHOOK_SECRET"}
    wrong_key_file = tmp_path / "wrong.pem"
    wrong_key_file.write_text(_rsa_pem())
    by_path = {k: v for k, v in env.items() if k != "GITHUB_PRIVATE_KEY"}
    cases = {
        "no_secret": no_secret,
        "wrong_key": env | {"GITHUB_PRIVATE_KEY": _rsa_pem()},  # not the key GitHub knows: GET /app is 401
        "wrong_key_file": by_path | {"GITHUB_PRIVATE_KEY_PATH": str(wrong_key_file)},
        "bad_url": env | {"ARCHBOT_DATABASE_URL": "mysql://localhost/archbot"},
        "unopenable": env | {"ARCHBOT_DATABASE_URL": f"sqlite:///{tmp_path}"},  # a directory, not a file
    }
    serve = ["serve", "--port", str(_free_port())]
    return _run_to_exit({name: (serve, case_env) for name, case_env in cases.items()}, tmp_path)


@pytest.fixture(scope="module")
def failures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    key = _rsa_pem()
    fake = FakeGitHub(app_id=4242, slug="archbot-test", private_key=key)
    tmp_path = tmp_path_factory.mktemp("failures")
    with serve_fake(fake) as base_url:
        env = _base_env() | {
            "GITHUB_APP_ID": "4242",
            "GITHUB_PRIVATE_KEY": key,
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": base_url,
            "ARCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'archbot.db'}",
        }
        yield _start_failures(env, tmp_path)


def _no_traceback(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.stderr, outcome.stderr


def test_missing_webhook_secret_exits_2(failures: dict[str, Outcome]) -> None:
    done = failures["no_secret"]
    assert done.returncode == 2, done.stderr
    assert "GITHUB_WEBHOOK_SECRET" in done.stderr
    _no_traceback(done)


def test_wrong_app_key_fails_with_one_clear_line(failures: dict[str, Outcome]) -> None:
    done = failures["wrong_key"]
    assert done.returncode == 1, done.stderr
    _no_traceback(done)
    lines = [line for line in done.stderr.splitlines() if line.startswith("archbot: ")]
    assert len(lines) == 1, done.stderr
    assert "/app failed" in lines[0]
    assert "HTTP 401" in lines[0]
    assert "GITHUB_PRIVATE_KEY" in lines[0]


def test_wrong_app_key_file_names_the_path_variable(failures: dict[str, Outcome]) -> None:
    done = failures["wrong_key_file"]
    assert done.returncode == 1, done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("archbot: ")]
    assert "HTTP 401" in line and "check GITHUB_APP_ID, GITHUB_PRIVATE_KEY_PATH and GITHUB_API_URL" in line


def test_a_junk_key_is_refused_before_any_request(tmp_path: Path) -> None:
    fake = FakeGitHub(app_id=4242, slug="archbot-test")
    junk_file = tmp_path / "junk.pem"
    junk_file.write_text("-----BEGIN RSA PRIVATE KEY-----\nnot really a key\n-----END RSA PRIVATE KEY-----\n")
    with serve_fake(fake) as base_url:
        env = _base_env() | {
            "GITHUB_APP_ID": "4242",
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": base_url,
            "ARCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'archbot.db'}",
        }
        by_file = env | {"GITHUB_PRIVATE_KEY_PATH": str(junk_file)}
        by_variable = env | {"GITHUB_PRIVATE_KEY": "hunter2-not-a-key"}
        serve = ["serve", "--port", str(_free_port())]
        outcomes = _run_to_exit(
            {
                "serve_file": (serve, by_file),
                "serve_variable": (serve, by_variable),
                "worker_file": (["worker"], by_file),
            },
            tmp_path,
        )
    for name, done in outcomes.items():
        assert done.returncode == 2, (name, done.stderr)
        _no_traceback(done)
        assert "GET" not in done.stderr and "InvalidKeyError" not in done.stderr, done.stderr
        assert "hunter2" not in done.stderr  # never the key itself
    file_message = f"archbot: cannot read the private key (GITHUB_PRIVATE_KEY_PATH={junk_file}): not a PEM private key"
    assert outcomes["serve_file"].stderr.startswith(file_message), outcomes["serve_file"].stderr
    assert outcomes["worker_file"].stderr.startswith(file_message), outcomes["worker_file"].stderr
    variable_message = "archbot: cannot read the private key (GITHUB_PRIVATE_KEY): not a PEM private key"
    assert outcomes["serve_variable"].stderr.startswith(variable_message), outcomes["serve_variable"].stderr
    assert fake.requests == []  # refused before anything was sent to GitHub


def test_bad_database_url_exits_2(failures: dict[str, Outcome]) -> None:
    done = failures["bad_url"]
    assert done.returncode == 2, done.stderr
    assert "ARCHBOT_DATABASE_URL" in done.stderr
    _no_traceback(done)


def test_unopenable_store_exits_1(failures: dict[str, Outcome]) -> None:
    done = failures["unopenable"]
    assert done.returncode == 1, done.stderr
    _no_traceback(done)
    assert "cannot open the store" in done.stderr
    assert "ARCHBOT_DATABASE_URL" in done.stderr


def _wait_for_line(path: Path, needle: str, proc: subprocess.Popen[bytes], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while needle not in path.read_text(encoding="utf-8", errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{needle!r} never appeared (exit {proc.poll()}):\n{path.read_text(encoding='utf-8')}")
        time.sleep(0.05)


def test_sigterm_stops_a_worker_and_an_unfinished_start_with_0(env: dict[str, str], tmp_path: Path) -> None:
    without_secret = {k: v for k, v in env.items() if k != "GITHUB_WEBHOOK_SECRET"}
    cases = {
        # a worker never checks webhook signatures: it starts without GITHUB_WEBHOOK_SECRET
        "worker": (["worker"], without_secret, '"event": "worker.started"'),
        # GitHub unreachable: start-up is retrying GET /app when the signal comes
        "starting": (
            ["serve", "--port", str(_free_port())],
            env | {"GITHUB_API_URL": "http://127.0.0.1:9"},
            "identify",
        ),
    }
    procs: dict[str, tuple[subprocess.Popen[bytes], Path, str]] = {}
    try:
        for name, (args, case_env, ready) in cases.items():
            err_path = tmp_path / f"{name}.stderr"
            with err_path.open("wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "app.cli", *args],
                    env=case_env,
                    cwd=ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            procs[name] = (proc, err_path, ready)
        for proc, err_path, ready in procs.values():
            _wait_for_line(err_path, ready, proc)
        for proc, _, _ in procs.values():
            proc.send_signal(signal.SIGTERM)
        for name, (proc, err_path, _) in procs.items():
            assert proc.wait(timeout=STOP_TIMEOUT) == 0, (name, err_path.read_text(encoding="utf-8"))
            assert "Traceback" not in err_path.read_text(encoding="utf-8"), name
    finally:
        for proc, _, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


# -- pruning, in-process -------------------------------------------------------------------------------


class FakeClock:
    """A clock that only moves when told."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


async def test_prune_once_drops_old_finished_jobs_and_usage(tmp_path: Path) -> None:
    clock = FakeClock()
    url = f"sqlite:///{tmp_path / 'archbot.db'}"
    queue, ledger = SQLiteJobQueue(url, clock=clock), SQLiteUsageLedger(url, clock=clock)
    try:
        done = Job(kind=JobKind.REVIEW_PR, repo="octo/app", number=1, installation_id=1, head_sha="a" * 40)
        waiting = Job(kind=JobKind.REVIEW_PR, repo="octo/app", number=2, installation_id=1, head_sha="b" * 40)
        await queue.accept_delivery("d-1", [done])
        (lease,) = await queue.lease("w", 60)
        assert await queue.complete(lease)
        await queue.enqueue(waiting)
        await ledger.add_tokens("inst:1", 100)

        assert await prune_once(queue, ledger, now=clock.now + DAY) == (0, 0)
        clock.now += 9 * DAY
        jobs, usage = await prune_once(queue, ledger, now=clock.now)
        assert (jobs, usage) == (2, 1)  # the finished job, its delivery record, the old token row
        assert (await queue.counts())["queued"] == 1  # a queued job is never pruned
    finally:
        await queue.close()
        await ledger.close()


async def test_prune_forever_keeps_going_after_a_failure(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archbot.db'}"
    queue, ledger = SQLiteJobQueue(url), SQLiteUsageLedger(url)
    calls = 0
    third = asyncio.Event()
    original = queue.prune

    async def flaky(before: float) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            third.set()
        if calls == 1:
            raise sqlite3.OperationalError("database is locked")
        return await original(before)

    queue.prune = flaky  # type: ignore[method-assign]
    task = asyncio.create_task(prune_forever(queue, ledger, interval=0.01, first_delay=0))
    try:
        async with asyncio.timeout(5):
            await third.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await queue.close()
        await ledger.close()
    assert task.cancelled()
