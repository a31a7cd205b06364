"""Exponential backoff with full jitter, for reconnect loops."""
from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delay before reconnect attempt ``n``: uniform in ``[base*factor**n * (1-jitter), base*factor**n]``,
    capped at ``cap``. ``reset()`` after a connection has been healthy.

    Jitter spreads many clients that dropped together (e.g. a server restart) so they do not
    reconnect in lockstep.
    """

    base: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.5  # fraction of the delay that is randomised
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay for the next attempt; advances the attempt counter."""
        ceiling = min(self.cap, self.base * (self.factor ** self.attempt))
        self.attempt += 1
        low = ceiling * (1.0 - self.jitter)
        return low + (ceiling - low) * self.rng.random()

    def reset(self) -> None:
        self.attempt = 0
