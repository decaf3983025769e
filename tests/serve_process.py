"""Test helpers for a real ``archbot serve`` child process against the fake GitHub and the fake model on
loopback: its environment, start, health wait, signed deliveries, ``kill -9`` and the store's job states."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.webhook_helpers import SECRET, signed_headers

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_env(*, app_id: int, private_key: str, github_url: str, db: Path, model_url: str | None) -> dict[str, str]:
    """The parent's environment without archbot, GitHub or model settings, plus what ``serve`` needs."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "ARCHBOT_", "ANTHROPIC_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "GITHUB_APP_ID": str(app_id),
        "GITHUB_PRIVATE_KEY": private_key,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": github_url,
        "ARCHBOT_DATABASE_URL": f"sqlite:///{db}",
        "ARCHBOT_LOG_LEVEL": "INFO",
    }
    if model_url is not None:
        env |= {"ANTHROPIC_API_KEY": "sk-ant-test-key", "ANTHROPIC_BASE_URL": model_url}
    return env


class Serve:
    """One ``archbot serve`` process; output goes to files named after ``name`` (no pipe can fill up)."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "serve") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = workdir / f"{name}.stderr"
        with (workdir / f"{name}.stdout").open("wb") as out, self.stderr_path.open("wb") as err:
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
                    pytest.fail(f"archbot serve exited with {self.proc.returncode}:\n{self.stderr()[-4000:]}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"archbot serve not healthy after {timeout}s:\n{self.stderr()[-4000:]}")
                time.sleep(0.05)

    def deliver(self, event: str, payload: dict[str, Any], *, delivery: str | None = None) -> httpx.Response:
        body = json.dumps(payload).encode()
        with httpx.Client(timeout=10.0) as client:
            return client.post(
                f"{self.url}/webhook", content=body, headers=signed_headers(body, event, delivery=delivery)
            )

    def kill9(self) -> None:
        """``kill -9``: no handler, no lease released, no request finished."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it does not stop in time; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=STOP_TIMEOUT * 2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(timeout=STOP_TIMEOUT)


def job_states(db: Path) -> dict[str, str]:
    """Idempotency key -> state of every job in the store (opened read-only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)
    try:
        return {str(k): str(s) for k, s in conn.execute("SELECT idempotency_key, state FROM jobs")}
    finally:
        conn.close()


def wait_until(predicate: Any, timeout: float, what: str, server: Serve | None = None) -> float:
    """Poll ``predicate()`` every 50 ms until true; the seconds it took. Fails the test after ``timeout``."""
    started = time.monotonic()
    while not predicate():
        if server is not None and server.proc.poll() is not None:
            pytest.fail(f"archbot serve exited with {server.proc.returncode} while waiting for {what}")
        if time.monotonic() - started > timeout:
            tail = server.stderr()[-4000:] if server is not None else ""
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{tail}")
        time.sleep(0.05)
    return time.monotonic() - started
