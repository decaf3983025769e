"""Whole-process start-up times of the console script, median of 5, with peak RSS (issue 14, "Start fast").

Three measurements, each of a fresh process (wall time from spawn to exit or readiness, CPU time from
its rusage, peak RSS as the kernel's high-water mark of the process itself):

(a) ``archbot --help``;
(b) ``archbot review --dry-run`` on the large diff :mod:`bench.prepare_diff` builds (two sdists of one
    package diffed at bench time, DESIGN decision 10; downloaded from the package index on the first
    run, then reused from ``bench/.work/``), both without ``--repo-dir`` (static checks only on new
    files) and with ``--repo-dir`` set to the unpacked new release (the static engine on every
    changed Python file, as on a real checkout);
(c) ``archbot serve`` ready: from spawn to the first ``GET /healthz`` answered 200. Start-up includes
    the ``GET /app`` check, answered by the fake GitHub of ``tests/fakegithub.py`` served on loopback
    in this process; the server is then stopped with SIGTERM.

Peak RSS: a process forked from this (large) one inherits its memory until ``exec``, and the kernel
counts that in ``ru_maxrss``; so (a) and (b) are spawned by a tiny launcher (``python -S``, a few MB)
that forks, execs, times and reaps the command, and (c) reads ``VmHWM`` from ``/proc/<pid>/status`` at
the moment it is ready.

No model credentials are set, so no model is built and nothing leaves the machine once the diff is
built. Goals: --help <= 0.3 s, the dry run <= 1.0 s, serve ready <= 1.5 s. On a shared machine the
wall times move with the load (printed first); the CPU times move less.

Usage: ``.venv/bin/python bench/startup.py [--runs 5] [--package pip --old 24.0 --new 24.1]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from prepare_diff import WORK, build_diff  # noqa: E402

from tests.fakegithub import FakeGitHub, serve_fake  # noqa: E402

GOALS = {"help": 0.3, "dry-run": 1.0, "serve": 1.5}
READY_TIMEOUT = 60.0
WEBHOOK_SECRET = "bench-secret"  # noqa: S105 - a throwaway secret for a local process


@dataclass(frozen=True)
class Run:
    """One process: seconds to exit (or to ready), CPU seconds, peak RSS in MiB, exit status."""

    wall: float
    cpu: float
    rss_mib: float
    status: int


def archbot_command() -> list[str]:
    """The console script next to this interpreter (what a user runs), else ``python -m app.cli``."""
    script = Path(sys.executable).with_name("archbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without archbot, GitHub or model settings (so no model is ever built)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("ARCHBOT_", "GITHUB_", "ANTHROPIC_"))}
    return env | extra


LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_to_exit(argv: Sequence[str], env: dict[str, str]) -> Run:
    """Run ``argv`` to its exit through the launcher; its stdout is discarded, stderr kept."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *argv], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    wall, cpu, rss_kib, status = done.stdout.split()
    return Run(float(wall), float(cpu), int(rss_kib) / 1024, int(status))


def peak_rss_mib(pid: int) -> float:
    """VmHWM of a running process (its own peak RSS since exec), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_serve_until_ready(env: dict[str, str], work: Path) -> Run:
    """Spawn ``archbot serve``, poll /healthz until 200 (that instant is the time), then SIGTERM."""
    port = free_port()
    db = work / f"serve-{port}.db"
    argv = [*archbot_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = env | {"ARCHBOT_DATABASE_URL": f"sqlite:///{db}"}
    with (work / "serve.stderr").open("ab") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    ready: float | None = None
    rss = float("nan")
    try:
        with httpx.Client(timeout=1.0) as client:
            while ready is None:
                if proc.poll() is not None:
                    raise SystemExit(f"archbot serve exited with {proc.returncode}: see {work / 'serve.stderr'}")
                try:
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        ready = time.perf_counter()
                        rss = peak_rss_mib(proc.pid)
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() - started > READY_TIMEOUT:
                    raise SystemExit(f"archbot serve not ready after {READY_TIMEOUT:.0f} s")
                time.sleep(0.005)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    _, status, usage = os.wait4(proc.pid, 0)  # CPU: start-up, serving /healthz and the graceful stop
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert ready is not None
    return Run(ready - started, usage.ru_utime + usage.ru_stime, rss, proc.returncode)


def measure(label: str, runs: int, once: Callable[[], Run], goal: float | None) -> list[Run]:
    """``once`` ``runs`` times (after one warm-up for the file cache); prints one line of medians."""
    once()
    results = [once() for _ in range(runs)]
    failed = [r.status for r in results if r.status != 0]
    wall = statistics.median(r.wall for r in results)
    cpu = statistics.median(r.cpu for r in results)
    rss = max(r.rss_mib for r in results)
    verdict = "" if goal is None else f"  goal <= {goal:.1f} s: {'met' if wall <= goal else 'NOT met'}"
    print(
        f"{label:<34} wall median {wall:6.3f} s (min {min(r.wall for r in results):.3f})  "
        f"cpu median {cpu:6.3f} s  peak RSS {rss:6.1f} MiB{verdict}" + (f"  EXIT {failed}" if failed else "")
    )
    return results


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--package", default="pip")
    parser.add_argument("--old", default="24.0")
    parser.add_argument("--new", default="24.1")
    args = parser.parse_args()

    diff = build_diff(args.package, args.old, args.new)
    new_tree = next(p for p in (WORK / f"{args.package}-{args.old}-{args.new}" / "new").iterdir() if p.is_dir())
    text = diff.read_text(encoding="utf-8", errors="replace")
    files = text.count("\ndiff --git ") + text.startswith("diff --git ")
    cmd = archbot_command()
    print(f"load average    {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"console script  {' '.join(cmd)}")
    print(f"diff            {args.package} {args.old} -> {args.new}: {len(text.encode()) / 1e6:.2f} MB, {files} files")
    print(f"runs            median of {args.runs} (after one warm-up run each)")
    print()

    env = clean_env()
    measure("(a) archbot --help", args.runs, lambda: run_to_exit([*cmd, "--help"], env), GOALS["help"])
    dry = [*cmd, "review", "--diff", str(diff), "--dry-run"]
    measure("(b) review --dry-run", args.runs, lambda: run_to_exit(dry, env), GOALS["dry-run"])
    with_repo = [*dry, "--repo-dir", str(new_tree)]
    measure("(b) review --dry-run --repo-dir", args.runs, lambda: run_to_exit(with_repo, env), GOALS["dry-run"])

    key = rsa_pem()
    fake = FakeGitHub(app_id=4242, slug="archbot-bench", private_key=key)
    with serve_fake(fake) as api_url, tempfile.TemporaryDirectory(prefix="archbot-startup-") as tmp:
        serve_env = clean_env(
            GITHUB_APP_ID="4242",
            GITHUB_PRIVATE_KEY=key,
            GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
            GITHUB_API_URL=api_url,
        )
        results = measure(
            "(c) serve ready (/healthz 200)",
            args.runs,
            lambda: run_serve_until_ready(serve_env, Path(tmp)),
            GOALS["serve"],
        )
        app_checks = fake.count("GET", r"/app$")
    print(f"    GET /app answered by the fake GitHub: {app_checks} times for {len(results) + 1} starts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
