"""``JobQueue.recent`` (the status page's read-only listing) on every backend of the queue contract."""

from __future__ import annotations

from app.jobs import JobKind
from app.queue import JobQueue, JobState
from tests.fakeclock import FakeClock
from tests.test_queue_contract import backend, clock, command, queue, review

__all__ = ["backend", "clock", "queue"]  # the contract's fixtures, for pytest


async def test_recent_lists_by_state_and_kind_newest_first(queue: JobQueue, clock: FakeClock) -> None:
    for n in (1, 2, 3, 4):
        assert await queue.enqueue(review(n))
        clock.advance(1)
    assert await queue.enqueue(command(5))
    leases = {lease.job.number: lease for lease in await queue.lease("w1", 300, limit=5)}
    assert set(leases) == {1, 2, 3, 4, 5}
    assert await queue.fail(leases[1], error="GitHub answered 403: forbidden")
    clock.advance(1)
    assert await queue.complete(leases[2])
    clock.advance(1)
    assert await queue.complete(leases[3])
    clock.advance(1)
    assert await queue.complete(leases[5])
    assert await queue.retry(leases[4], delay=60, error="GitHub unavailable: 502")

    done = await queue.recent([JobState.DONE], kind=JobKind.REVIEW_PR)
    assert [r.job.number for r in done] == [3, 2]  # the command is not a review; newest first
    assert [r.job.number for r in await queue.recent([JobState.DONE])] == [5, 3, 2]
    assert [r.job.number for r in await queue.recent([JobState.DONE], limit=1)] == [5]
    [failed] = await queue.recent([JobState.FAILED])
    assert failed.job.number == 1 and failed.last_error == "GitHub answered 403: forbidden"
    [waiting] = await queue.recent([JobState.QUEUED])
    assert waiting.job.number == 4 and waiting.last_error == "GitHub unavailable: 502"
    assert waiting.run_after >= clock() + 59
    assert await queue.recent([JobState.RUNNING]) == []
    both = await queue.recent([JobState.FAILED, JobState.QUEUED])
    assert {r.job.number for r in both} == {1, 4}
    assert await queue.recent([]) == [] and await queue.recent([JobState.DONE], limit=0) == []
