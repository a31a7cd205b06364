"""Speed benchmark: ``Analyzer.analyze_messages`` with all heads on unique short chat messages
(``benchmarks.chat_corpus``), batch 64.

    python -m companion.affect.speed [--n 2048] [--threads 2] [--precision fp32 bf16 int8]

Prints one JSON object: msgs/s per encoder precision (fp32, bf16, int8 dynamic quantisation), best
and median of ``--rounds`` interleaved passes, and with ``--baseline`` the ratio to the seed-style
baseline taken in the same run; ``load_s_fresh_process_*`` is ``Analyzer.load`` in a new
interpreter (three runs, imports included), ``load_s_warm_*`` in this one.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time


def measure(analyzer, texts: list[str], batch: int) -> float:
    """msgs/s of ``analyzer.analyze_messages`` over ``texts`` in batches of ``batch`` (4 channels,
    50 viewers), after one warm-up batch."""
    from companion.messages import ChatMessage

    msgs = [ChatMessage(text=t, channel=f"c{i % 4}", user=f"u{i % 50}") for i, t in enumerate(texts)]
    analyzer.analyze_messages(msgs[:batch])  # warm-up
    cache = getattr(analyzer, "text_cache", None)
    if cache is not None:
        cache.clear()  # the texts are unique: time the models, not lookups of the warm-up batch
    t = time.perf_counter()
    for s in range(0, len(msgs), batch):
        analyzer.analyze_messages(msgs[s:s + batch])
    return len(msgs) / (time.perf_counter() - t)


# Run in a child process so the figure includes importing torch and the analyser's modules.
_FRESH_LOAD = ("import time; t = time.perf_counter(); from companion.analyzer import Analyzer; "
               "Analyzer.load(precision={prec!r}); print(time.perf_counter() - t)")


def fresh_load_seconds(precision: str, runs: int = 3) -> list[float]:
    """Seconds from a new interpreter's first import to a loaded ``Analyzer``, ``runs`` times."""
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return [round(float(subprocess.run([sys.executable, "-c", _FRESH_LOAD.format(prec=precision)], env=env,
                                       check=True, capture_output=True, text=True).stdout.split()[-1]), 2)
            for _ in range(runs)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--baseline", type=int, default=0, help="also time the seed-style baseline on this many messages")
    p.add_argument("--precision", nargs="+", default=["fp32", "bf16", "int8"], help="encoder precisions to time")
    p.add_argument("--rounds", type=int, default=3,
                   help="timed passes per precision, interleaved; the VM is noisy, so best and median are reported")
    a = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(a.threads)
    from companion.analyzer import Analyzer

    from benchmarks.chat_corpus import chat_messages

    texts = chat_messages(a.n, seed=2)
    res = {"n": a.n, "batch": a.batch, "threads": a.threads, "cpu": platform.processor() or platform.machine(),
           "cpu_count": os.cpu_count()}
    analyzers, rates = {}, {p: [] for p in a.precision}
    for prec in a.precision:
        res[f"load_s_fresh_process_{prec}"] = fresh_load_seconds(prec)
        t = time.perf_counter()
        analyzers[prec] = Analyzer.load(precision=prec)
        res[f"load_s_warm_{prec}"] = round(time.perf_counter() - t, 2)
    for _ in range(a.rounds):
        for prec, an in analyzers.items():
            an.reset()
            rates[prec].append(measure(an, texts, a.batch))
    for prec, r in rates.items():
        res[f"msgs_per_s_{prec}"] = round(max(r), 1)
        res[f"msgs_per_s_{prec}_median"] = round(statistics.median(r), 1)
    if a.baseline:
        from benchmarks.seed_baseline import SeedBaseline

        base = SeedBaseline()
        res["baseline_msgs_per_s"] = round(measure(base, chat_messages(a.baseline, seed=3), 1), 2)
        for prec in a.precision:
            res[f"ratio_{prec}"] = round(res[f"msgs_per_s_{prec}"] / res["baseline_msgs_per_s"], 1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
