"""Per-stage counters and latency histograms (prometheus-client), plus exact end-to-end latency
samples for the run summary."""
from __future__ import annotations

from array import array

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One registry per engine, so tests can run several engines in a process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages_in = Counter("companion_messages_in", "Messages accepted from sources",
                                   ["source"], registry=r)
        self.bad_lines = Counter("companion_bad_lines", "Input lines rejected by a source",
                                 ["source"], registry=r)
        self.stage_items = Counter("companion_stage_items", "Messages processed per stage",
                                   ["stage"], registry=r)
        self.stage_errors = Counter("companion_stage_errors", "Stage batches that raised",
                                    ["stage"], registry=r)
        self.stage_seconds = Histogram("companion_stage_batch_seconds", "Stage time per batch",
                                       ["stage"], buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("companion_batch_size", "Analyser micro-batch sizes",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r)
        self.degraded = Counter("companion_degraded", "Messages given lexicon-only analysis",
                                registry=r)
        self.e2e_seconds = Histogram("companion_e2e_latency_seconds",
                                     "Receive-to-publish latency per message",
                                     buckets=_LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("companion_queue_depth", "Items waiting in a queue", ["queue"],
                                 registry=r)
        self.published = Counter("companion_records_published", "Records that left the pipeline",
                                 registry=r)
        self._latencies_ms = array("d")

    def observe_e2e(self, seconds: float) -> None:
        self.e2e_seconds.observe(seconds)
        self._latencies_ms.append(seconds * 1000.0)

    def latency_percentiles(self) -> dict[str, float | None]:
        """Exact p50/p99 over every message of the run, in milliseconds."""
        if not self._latencies_ms:
            return {"p50_ms": None, "p99_ms": None}
        a = np.frombuffer(self._latencies_ms, dtype=np.float64)
        p50, p99 = np.percentile(a, [50, 99])
        return {"p50_ms": round(float(p50), 3), "p99_ms": round(float(p99), 3)}

    @staticmethod
    def counter_value(counter: Counter, **labels: str) -> float:
        return (counter.labels(**labels) if labels else counter)._value.get()
