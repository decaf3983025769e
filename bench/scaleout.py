"""Scale-out on PostgreSQL: receivers and ``archbot worker`` processes on one database (issue 18).

Usage::

    python bench/scaleout.py [--prs 50] [--pushes 8] [--redeliveries 2] [--receivers 2] [--workers 3]
                             [--concurrency 2] [--model-latency 1.0] [--lease 10] [--no-kill] [--json]

Everything runs on loopback: a fresh PostgreSQL database on ``ARCHBOT_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) migrated with ``archbot db migrate``, the fake GitHub and the
fake model (answering every review after ``--model-latency`` seconds) served in this process, and real
``archbot serve`` (receive only) and ``archbot worker --concurrency N`` subprocesses. The defaults send
500 signed ``pull_request`` deliveries over 50 PRs: per PR ``opened`` and 7 ``synchronize`` pushes in
order plus 2 redeliveries (same delivery id) of earlier pushes, PRs interleaved at random, through 4
sender threads to random receivers. Every PR is already at its last head on the fake GitHub, so an older
push is stale: superseded in the queue by the newer push, or at run time ("head moved"). Unless
``--no-kill``, the first worker is SIGKILLed while it holds the lease of a latest-head review; its job is
leased again after ``--lease`` seconds (``ARCHBOT_WORKER_LEASE_SECONDS``).

Reported: wall time from the first delivery until every job is finished, throughput (jobs/s, and reviews
posted/s: the model-bound part), jobs by final state, superseded in the queue vs at run time, lost
(a push without its job, a delivery id not recorded, or a PR without a review of its latest head),
duplicates (a second review on a PR), and the deliveries a receiver answered 503 ("store unavailable,
retry later": the database did not answer within 0.8 s) that the sender sent again. Also the GitHub
writes and the floor that write pacing sets on the wall time: archbot keeps >= 1.05 s between writes per
installation *per process* (``app.github.pacing``), and by default every PR is in one installation, so
the workers' pacing, not the queue, is the limit (``--installations N`` spreads them). Exit code 0 when
nothing is lost or duplicated, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgtest import fresh_database  # noqa: E402 - after the sys.path line, to run from anywhere
from tests.scaleout import REPO, Failed, head, outcome, plan, world  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prs", type=int, default=50)
    p.add_argument("--pushes", type=int, default=8)
    p.add_argument("--redeliveries", type=int, default=2, help="per PR")
    p.add_argument("--receivers", type=int, default=2)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=2, help="jobs per worker process")
    p.add_argument("--model-latency", type=float, default=1.0)
    p.add_argument("--lease", type=float, default=10.0, help="ARCHBOT_WORKER_LEASE_SECONDS")
    p.add_argument("--no-kill", action="store_true", help="do not SIGKILL a worker mid-run")
    p.add_argument("--seed", type=int, default=18)
    p.add_argument(
        "--installations", type=int, default=1, help="spread the PRs over this many installations (write pacing)"
    )
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    deliveries = plan(args.prs, args.pushes, args.redeliveries, seed=args.seed, installations=args.installations)
    expected_jobs = args.prs * args.pushes
    finals = {f"review_pr:{REPO}#{pr}@{head(pr, args.pushes)}:incr" for pr in range(1, args.prs + 1)}
    report: dict[str, object] = {}
    with (
        tempfile.TemporaryDirectory(prefix="archbot-scaleout-") as tmp,
        fresh_database() as url,
        world(
            url,
            Path(tmp),
            prs=args.prs,
            final_push=args.pushes,
            model_latency=args.model_latency,
            lease_seconds=args.lease,
            installations=args.installations,
        ) as w,
    ):
        for _ in range(args.receivers):
            w.start_receiver()
        for _ in range(args.workers):
            w.start_worker(args.concurrency)
        try:
            w.wait_ready()
            started = time.monotonic()
            statuses = w.send(deliveries)
            sent = time.monotonic() - started
            killed: str | None = None
            if not args.no_kill:
                victim = w.workers[0]
                held: list[str] = []

                def reviewing() -> bool:
                    held[:] = [k for k in w.running_on(victim) if k in finals]
                    return bool(held)

                w.wait(reviewing, 120.0, "the first worker running a review")
                victim.kill9()
                killed = held[0]
            w.wait(lambda: w.settled(expected_jobs), args.timeout, "every job finished")
            seconds = time.monotonic() - started
        except Failed as exc:
            sys.stderr.write(f"scaleout: {exc}\n")
            return 1
        result = outcome(w, deliveries, statuses, prs=args.prs, pushes=args.pushes, seconds=seconds)
        killed_job = next((j for j in result.jobs if j[0] == killed), None)
        problems = result.problems()
        reviews = sum(len(r) for r in result.reviews.values())
        writes = sum(1 for r in w.fake.calls() if r.method != "GET" and r.path != "/graphql")
        report = {
            "deliveries": len(deliveries),
            "delivery_ids": result.delivery_ids,
            "prs": args.prs,
            "receivers": args.receivers,
            "workers": args.workers,
            "concurrency_per_worker": args.concurrency,
            "model_latency_s": args.model_latency,
            "send_seconds": round(sent, 2),
            "resent_after_503": w.resent,
            "seconds": round(seconds, 2),
            "jobs": len(result.jobs),
            "jobs_per_s": round(len(result.jobs) / seconds, 2),
            "reviews_posted": reviews,
            "reviews_per_s": round(reviews / seconds, 2),
            "model_calls": len(w.model.calls("submit_review")),
            "github_writes": writes,
            # archbot paces writes per installation per process (>= 1.05 s apart): this is the floor it sets
            "installations": args.installations,
            "write_pacing_floor_s": round(writes * 1.05 / max(args.workers * args.installations, 1), 1),
            "states": result.states(),
            "superseded_in_queue": result.superseded_queued(),
            "superseded_at_run_time": result.superseded_running(),
            "lost": len([x for x in problems if "lost" in x or "recorded" in x or "reviews of" in x]),
            "duplicates": result.duplicates(),
            "killed_job": None
            if killed_job is None
            else {"state": killed_job[1], "attempts": killed_job[2], "last_error": killed_job[4]},
            "problems": problems,
        }
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        for k, v in report.items():
            sys.stdout.write(f"{k:24} {v}\n")
    return 0 if not report["problems"] and report["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
