"""The bounded end-to-end latency histogram behind the run summary's p50/p99."""
import numpy as np

from pipelines.latency_histogram import LatencyHistogram
from pipelines.metrics import Metrics


def test_percentiles_match_exact_within_a_bucket():
    rng = np.random.default_rng(0)
    samples = rng.lognormal(mean=2.0, sigma=1.2, size=50_000)  # ms, median ~7
    h = LatencyHistogram()
    size = h.counts.nbytes
    for x in samples:
        h.observe(float(x))
    assert h.counts.nbytes == size and h.count == len(samples)  # bounded: no per-sample storage
    for q in (50, 90, 99, 99.9):
        exact = float(np.percentile(samples, q, method="inverted_cdf"))
        assert abs(h.percentile(q) - exact) <= 0.011 * exact, q


def test_extremes_and_empty():
    h = LatencyHistogram()
    assert h.percentile(99) is None
    for x in (0.0, 0.001, 5.0, 10_000_000.0):
        h.observe(x)
    assert h.percentile(1) <= 0.011 and h.percentile(100) <= 10_000_000.0


def test_metrics_summary_uses_it():
    m = Metrics()
    assert m.latency_percentiles() == {"p50_ms": None, "p99_ms": None}
    for ms in range(1, 101):
        m.observe_e2e(ms / 1000.0)
    p = m.latency_percentiles()
    assert abs(p["p50_ms"] - 50) <= 0.6 and abs(p["p99_ms"] - 99) <= 1.0
