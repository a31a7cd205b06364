"""Per-stage counters and latency histograms (prometheus-client), plus a bounded end-to-end
latency histogram for the run summary's percentiles (``pipelines.latency_histogram``)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipelines.latency_histogram import LatencyHistogram

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
        self._latency = LatencyHistogram()

    def observe_e2e(self, seconds: float) -> None:
        self.e2e_seconds.observe(seconds)
        self._latency.observe(seconds * 1000.0)

    def latency_percentiles(self) -> dict[str, float | None]:
        """p50/p99 over every message of the run, in milliseconds (within 0.5%: a bounded
        histogram, not the samples)."""
        if not self._latency.count:
            return {"p50_ms": None, "p99_ms": None}
        p50, p99 = self._latency.percentile(50), self._latency.percentile(99)
        return {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3)}

    @staticmethod
    def counter_value(counter: Counter, **labels: str) -> float:
        return (counter.labels(**labels) if labels else counter)._value.get()
