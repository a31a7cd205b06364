"""The overload policy: when to give a batch lexicon-only analysis instead of the full models.

Nothing is ever dropped. Sources wait on the bounded ingest queue (backpressure), so the only
question is whether the analyser keeps up with deep analysis or falls back to the cheap lexicon
pass, which marks records ``degraded: true``.

Modes:
- ``block``: always deep. Sources wait when the queue is full. Right for offline replays, where
  the source can pause and accuracy matters more than latency.
- ``degrade``: a batch goes lexicon-only when the ingest backlog is above ``high_watermark`` of
  the queue's capacity, or when its oldest message has already waited longer than
  ``max_lag_ms``. Right for live chat, where latency matters and the source cannot pause.
- ``auto`` (default): ``block`` when every source can pause (replay, stdin), else ``degrade``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class OverloadMode(str, enum.Enum):
    AUTO = "auto"
    BLOCK = "block"
    DEGRADE = "degrade"


@dataclass(slots=True)
class OverloadPolicy:
    mode: OverloadMode = OverloadMode.AUTO
    high_watermark: float = 0.5  # fraction of ingest capacity
    max_lag_ms: float = 250.0

    def resolve(self, sources_can_pause: bool) -> "OverloadPolicy":
        """Turn ``auto`` into a concrete mode for this run."""
        if self.mode is not OverloadMode.AUTO:
            return self
        mode = OverloadMode.BLOCK if sources_can_pause else OverloadMode.DEGRADE
        return OverloadPolicy(mode, self.high_watermark, self.max_lag_ms)

    def deep(self, backlog: int, capacity: int, oldest_wait_ms: float) -> bool:
        """Whether the next batch gets the full models."""
        if self.mode is OverloadMode.BLOCK:
            return True
        if capacity > 0 and backlog > self.high_watermark * capacity:
            return False
        return oldest_wait_ms <= self.max_lag_ms
