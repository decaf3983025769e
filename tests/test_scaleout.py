"""Scale-out on PostgreSQL with real processes: two receivers and three ``archbot worker`` processes on one
fresh database, 100 signed deliveries over 10 PRs (8 pushes each, plus redeliveries) against the fake
GitHub and a fake model answering in 1 s; one worker is SIGKILLed while it runs a review. Every PR ends
with exactly one review, of its latest head; no delivery is lost; the killed worker's job is leased again
after its (short, configured) lease and finished by another worker. ``bench/scaleout.py`` is the 500-delivery
version with figures."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgtest import fresh_database
from tests.scaleout import REPO, World, head, outcome, plan, world

pytestmark = pytest.mark.slow

PRS, PUSHES, REDELIVERIES = 10, 8, 2
LEASE = 4.0  # ARCHBOT_WORKER_LEASE_SECONDS: the killed worker's job is leased again this long after its last beat


@pytest.fixture
def scaled(tmp_path: Path) -> Iterator[World]:
    with (
        fresh_database() as url,
        world(url, tmp_path, prs=PRS, final_push=PUSHES, model_latency=1.0, lease_seconds=LEASE) as w,
    ):
        yield w


def test_receivers_and_workers_on_one_database_survive_a_sigkill(scaled: World) -> None:
    w = scaled
    for _ in range(2):
        w.start_receiver()
    victim = w.start_worker(2)
    for _ in range(2):
        w.start_worker(2)
    w.wait_ready()
    deliveries = plan(PRS, PUSHES, REDELIVERIES, seed=18)
    assert len(deliveries) == 100
    statuses = w.send(deliveries)

    # SIGKILL the first worker while it holds the lease of a review of a latest head (the model is answering)
    finals = {f"review_pr:{REPO}#{pr}@{head(pr, PUSHES)}:incr" for pr in range(1, PRS + 1)}
    held: list[str] = []

    def victim_reviewing() -> bool:
        held[:] = [k for k in w.running_on(victim) if k in finals]
        return bool(held)

    w.wait(victim_reviewing, 60.0, "the first worker running a review")
    victim.kill9()
    killed_job = held[0]

    w.wait(lambda: w.settled(PRS * PUSHES), 120.0, "every job finished")
    result = outcome(w, deliveries, statuses, prs=PRS, pushes=PUSHES, seconds=0.0)
    assert result.problems() == []
    assert result.duplicates() == 0

    [(_, state, attempts, _, error)] = [j for j in result.jobs if j[0] == killed_job]
    assert state == "succeeded"
    assert attempts == 2, "the killed attempt counted, then one more by another worker"
    assert error is not None and error.startswith("lease expired: worker ") and f":{victim.proc.pid}:" in error
    survivors = [p for p in w.workers if p is not victim]

    # every older push ended superseded: cancelled in the queue by the newer push, or at run time
    assert result.superseded_queued() + result.superseded_running() == PRS * (PUSHES - 1)
    states = result.states()
    assert states == {"succeeded": PRS, "cancelled": PRS * (PUSHES - 1)}

    # /metrics on a receiver reports the queue depth per state from the database
    text = w.metrics()
    gauge = {m[0]: float(m[1]) for m in re.findall(r'^archbot_jobs\{state="(\w+)"\} ([0-9.e+]+)$', text, re.M)}
    assert gauge["done"] == PRS and gauge["superseded"] == PRS * (PUSHES - 1)
    assert gauge["queued"] == 0 and gauge["running"] == 0

    # the survivors stop gracefully on SIGTERM
    for proc in survivors:
        assert proc.stop() == 0, proc.stderr()[-2000:]


def test_receivers_only_receive_and_a_stopping_worker_hands_back_or_finishes(tmp_path: Path) -> None:
    with fresh_database() as url, world(url, tmp_path, prs=1, final_push=1, model_latency=3.0, lease_seconds=30) as w:
        w.start_receiver()
        w.wait_ready()
        [delivery] = plan(1, 1, 0, seed=1)
        assert w.send([delivery]) == [202]
        key = f"review_pr:{REPO}#1@{head(1, 1)}:incr"

        def state() -> tuple[str, int]:
            [(status, attempts)] = [(s, a) for k, s, a, _, _ in w.jobs() if k == key]
            return status, attempts

        time.sleep(1.5)
        assert state() == ("todo", 0), "archbot serve on PostgreSQL only receives (no --with-worker)"
        assert "worker.started" not in w.receivers[0][0].stderr()

        # SIGTERM with no grace: the running job is handed back (queued again, the attempt not counted)
        first = w.start_worker(1, ARCHBOT_WORKER_SHUTDOWN_GRACE="0")
        w.wait(lambda: bool(w.running_on(first)), 60.0, "the first worker running the review")
        assert first.stop() == 0, first.stderr()[-2000:]
        assert state() == ("todo", 0)
        assert "job.released" in first.stderr()

        # SIGTERM with a grace covering the review: the running job finishes, then the worker exits
        second = w.start_worker(1, ARCHBOT_WORKER_SHUTDOWN_GRACE="60")
        w.wait(lambda: bool(w.running_on(second)), 60.0, "the second worker running the review")
        assert second.stop() == 0, second.stderr()[-2000:]
        assert state() == ("succeeded", 1)
        assert [r.commit_id for r in w.fake.reviews(REPO, 1)] == [head(1, 1)]
