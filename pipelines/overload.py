"""The overload policy: when to give a batch lexicon-only analysis, and when to refuse new input.

Every decision is taken from the **end-to-end lag** (how far behind real time the publisher is:
the age of the oldest message still in the pipeline, see :meth:`pipelines.runtime.Runtime.lag_ms`),
not from the depth of one queue: the bottleneck may be any stage (memory, analytics, character),
and a short ingest queue in front of a slow stage says nothing.

The pipeline holds at most ``--queue-size`` messages in flight, across every queue. A source that
can pause (replay, stdin, a connector's inbox) waits for room (backpressure). A caller that cannot
be made to wait (the webhook) is refused with 503 + ``Retry-After`` when the batch would not fit
or the lag is above ``shed_lag_ms``; the batch is then taken whole or not at all.

Modes:
- ``block``: always deep. Right for offline replays, where the source can pause and accuracy
  matters more than latency.
- ``degrade``: a batch goes lexicon-only while the lag is above ``max_lag_ms``. Right for live
  chat, where latency matters and the source cannot pause.
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
    max_lag_ms: float = 250.0  # degrade above this end-to-end lag
    shed_lag_ms: float = 2000.0  # refuse webhook batches (503) above this end-to-end lag

    def resolve(self, sources_can_pause: bool) -> "OverloadPolicy":
        """Turn ``auto`` into a concrete mode for this run."""
        if self.mode is not OverloadMode.AUTO:
            return self
        mode = OverloadMode.BLOCK if sources_can_pause else OverloadMode.DEGRADE
        return OverloadPolicy(mode, self.max_lag_ms, self.shed_lag_ms)

    def deep(self, lag_ms: float) -> bool:
        """Whether the next batch gets the full models, given the end-to-end lag now."""
        if self.mode is OverloadMode.BLOCK:
            return True
        return lag_ms <= self.max_lag_ms

    def shed(self, lag_ms: float) -> bool:
        """Whether a caller that can retry later (the webhook) should be refused now."""
        return lag_ms > self.shed_lag_ms
