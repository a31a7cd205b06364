"""Sliding-window limiter and backoff on an injected clock (no wall-time assertions)."""
import asyncio
import random

import pytest

from companion.connectors.backoff import Backoff
from companion.connectors.ratelimit import SlidingWindowLimiter


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def max_in_any_window(stamps: list[float], window: float) -> int:
    return max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)


async def test_burst_is_spread_over_windows_and_nothing_dropped():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(20, 30.0, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        stamps.append(clock())

    await asyncio.gather(*(one() for _ in range(65)))
    assert len(stamps) == 65
    assert max_in_any_window(stamps, 30.0) == 20
    assert stamps[:20] == [0.0] * 20
    assert stamps[20] == pytest.approx(30.0) and stamps[40] == pytest.approx(60.0)
    assert stamps[-1] == pytest.approx(90.0)


async def test_per_call_limit_and_try_acquire():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(20, 30.0, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        assert limiter.try_acquire()
    assert not limiter.try_acquire()
    assert limiter.delay() == pytest.approx(30.0)
    # A moderator channel may use up to 100 in the same account-wide window.
    for _ in range(80):
        assert limiter.try_acquire(limit=100)
    assert not limiter.try_acquire(limit=100)
    assert limiter.in_window() == 100
    clock.now = 30.0
    assert limiter.in_window() == 0 and limiter.try_acquire()


async def test_margin_added_to_wait():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock=clock, sleep=clock.sleep, margin=0.5)
    await limiter.acquire()
    waited = await limiter.acquire()
    assert waited == pytest.approx(10.5)


def test_invalid_limiter():
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0, 1.0)


def test_backoff_grows_with_jitter_and_caps():
    b = Backoff(base=1.0, factor=2.0, cap=8.0, jitter=0.5, rng=random.Random(7))
    delays = [b.next_delay() for _ in range(6)]
    ceilings = [1, 2, 4, 8, 8, 8]
    for d, c in zip(delays, ceilings):
        assert c * 0.5 <= d <= c
    assert len(set(delays)) == len(delays)  # jittered, not lockstep
    b.reset()
    assert b.next_delay() <= 1.0
