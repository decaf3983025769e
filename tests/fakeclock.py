"""A clock for tests that only moves when told (queues, ledgers and workers take it injected)."""

from __future__ import annotations


class FakeClock:
    """Seconds since the epoch, frozen until ``advance`` (or a write to ``now``)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
