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
        # Reconciliation (issue 13): accepted = published + failed + in flight, at any moment.
        self.failed = Counter("companion_messages_failed",
                              "Accepted messages that could not become a record (counted, with the "
                              "stage)", ["stage"], registry=r)
        self.message_errors = Counter("companion_message_stage_errors",
                                      "Messages a stage failed on alone (the record still flows on)",
                                      ["stage"], registry=r)
        self.sink_failures = Counter("companion_sink_failures",
                                     "Records a sink write failed for (the pipeline goes on)",
                                     registry=r)
        self.in_flight = Gauge("companion_in_flight", "Accepted messages not yet published or failed",
                               registry=r)
        self.lag_seconds = Gauge("companion_e2e_lag_seconds",
                                 "Age of the oldest message still in the pipeline", registry=r)
        self.loop_lag = Gauge("companion_loop_lag_seconds",
                              "Event-loop wake-up delay of the probe task, last sample", registry=r)
        self.loop_lag_max = Gauge("companion_loop_lag_max_seconds",
                                  "Largest event-loop wake-up delay since start", registry=r)
        self.follower_seconds = Histogram("companion_follower_latency_seconds",
                                          "Receive-to-done latency of stages that follow publish "
                                          "(the character)", ["stage"], buckets=_LATENCY_BUCKETS,
                                          registry=r)
        self.loop_lag_max_s = 0.0
        self._loop_lag_window_s = 0.0
        self._latency = LatencyHistogram()
        self._follower_latency: dict[str, LatencyHistogram] = {}

    def observe_e2e(self, seconds: float) -> None:
        self.e2e_seconds.observe(seconds)
        self._latency.observe(seconds * 1000.0)

    def observe_follower(self, stage: str, seconds: float) -> None:
        """Receive-to-done latency of one message in a stage that runs after publish."""
        self.follower_seconds.labels(stage=stage).observe(seconds)
        hist = self._follower_latency.get(stage)
        if hist is None:
            hist = self._follower_latency[stage] = LatencyHistogram()
        hist.observe(seconds * 1000.0)

    def follower_percentiles(self) -> dict[str, dict[str, float | None]]:
        """Per follower stage: p50/p99 receive-to-done latency in milliseconds."""
        return {name: {"p50_ms": round(h.percentile(50), 3), "p99_ms": round(h.percentile(99), 3)}
                for name, h in self._follower_latency.items() if h.count}

    def observe_loop_lag(self, seconds: float) -> None:
        """One sample of the loop-lag probe (``pipelines.loop_probe``)."""
        self.loop_lag.set(seconds)
        if seconds > self._loop_lag_window_s:
            self._loop_lag_window_s = seconds
        if seconds > self.loop_lag_max_s:
            self.loop_lag_max_s = seconds
            self.loop_lag_max.set(seconds)

    def pop_loop_lag_window(self) -> float:
        """The largest loop-lag sample since the last call (seconds), for a time series."""
        worst, self._loop_lag_window_s = self._loop_lag_window_s, 0.0
        return worst

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
