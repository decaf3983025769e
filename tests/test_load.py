"""Load with reviews in flight (issue 17), derived from ``bench/webhook_load.py --reviews``: 1,000 signed
deliveries at 200/s into a real ``archbot serve`` while its worker reviews against a fake GitHub that
answers every call after 1 s and a fake model that answers after 3 s. Every delivery gets a 2xx and its
job, every PR's head gets exactly one review, one summary and one completed check run, superseded heads
get none, and the p99 ack (from each delivery's due time) stays within a coarse bound.

The issue's goal (p99 < 20 ms) is a figure ``bench/webhook_load.py --reviews`` measures and reports: the
test command runs on shared machines, so a timed assertion would test the neighbours. The test's bound,
250 ms (``ARCHBOT_LOAD_P99_MS``), still catches what matters: review work holding up the receiver's loop
(before the worker had its own thread, p99 was over 2 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "webhook_load.py"
P99_LIMIT_MS = float(os.environ.get("ARCHBOT_LOAD_P99_MS", "250"))


def run_bench(*args: str) -> tuple[dict[str, object], dict[str, int], str]:
    done = subprocess.run(
        [sys.executable, str(BENCH), *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    summary: dict[str, object] = {}
    posts: dict[str, int] = {}
    for line in done.stdout.splitlines():
        if line.startswith('{"posts"'):
            posts = json.loads(line)["posts"]
        elif line.startswith("{"):
            summary = json.loads(line)
    assert summary and posts, done.stdout + done.stderr
    return summary, posts, done.stdout


def test_thousand_deliveries_at_200_per_second_while_reviews_run() -> None:
    summary, posts, out = run_bench(
        "--reviews", "--prs", "20", "--installations", "10", "--rate", "200", "--seconds", "5"
    )
    assert summary["sent"] == summary["answered"] == 1000, out
    assert summary["errors"] == {} and summary["non_2xx"] == 0, out
    assert summary["lost"] == 0 and summary["jobs_found"] == summary["accepted_202"] == 1000, out
    assert "jobs drained   yes" in out and "exit 0" in out, out
    # every PR's head reviewed exactly once; the 980 superseded heads posted nothing
    assert posts["prs"] == posts["complete"] == 20, out
    assert posts["missing"] == posts["duplicates"] == posts["stale"] == 0, out
    assert posts["model_calls"] == 20, out
    assert posts["token_exchanges"] == 10, out  # one per installation, shared by its concurrent jobs
    assert isinstance(summary["p99_ms"], float) and summary["p99_ms"] < P99_LIMIT_MS, out
