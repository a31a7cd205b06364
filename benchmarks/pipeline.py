"""End-to-end pipeline benchmark: prints one JSON object.

    python -m benchmarks.pipeline            # ours vs the seed-style baseline, same run
    python -m benchmarks.pipeline --no-op    # the runtime alone (no-op analyser)

Measured, all on unique messages through the real runtime (bounded queues, micro-batcher, worker
thread, enrich stage, JSONL sink to a temp file):
- ``throughput``: offered as fast as possible (``--speed 0`` semantics, backpressure);
- ``paced``: offered at ``--rate`` msgs/s (default 50) for ``--paced-seconds``; p50/p99 latency
  from receive to publish;
- ``analyzer``: ``analyze_messages`` alone at batch 64, deep (all heads).
The baseline gets fewer messages because it is ~100x slower; rates are comparable, counts not.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator

import torch

from benchmarks.chat_corpus import chat_messages
from companion.messages import ChatMessage
from pipelines.enrich import EnrichStage
from pipelines.noop_analyzer import NoopAnalyzer
from pipelines.overload import OverloadMode, OverloadPolicy
from pipelines.runtime import Runtime, RuntimeConfig
from pipelines.sink import JsonlSink


class _ListSource:
    """Offers prepared messages, either as fast as accepted or at a fixed rate."""

    def __init__(self, texts: list[str], rate: float | None = None) -> None:
        self.texts, self.rate = texts, rate
        self.can_pause = rate is None

    def __aiter__(self) -> AsyncIterator[ChatMessage]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[ChatMessage]:
        start = time.perf_counter()
        for i, text in enumerate(self.texts):
            if self.rate:
                delay = start + i / self.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif i % 256 == 0:
                await asyncio.sleep(0)
            yield ChatMessage(text=text, channel=f"c{i % 4}", user=f"u{i % 500}",
                              platform="bench")


async def _run(analyzer: Any, texts: list[str], rate: float | None, mode: OverloadMode,
               sink: bool = True) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(analyzer, [EnrichStage()],
                     sink=JsonlSink(Path(tmp) / "out.jsonl") if sink else None,
                     config=RuntimeConfig(overload=OverloadPolicy(mode=mode)))
        summary = await rt.run([("bench", _ListSource(texts, rate))])
    d = summary.to_dict()
    return {k: d[k] for k in ("messages", "degraded", "msgs_per_s", "p50_ms", "p99_ms")}


def _analyzer_only(analyzer: Any, texts: list[str], batch: int = 64, rounds: int = 3) -> dict:
    """``analyze_messages`` alone (``companion.affect.speed.measure``), best and median of
    ``rounds`` passes: the shared VM's speed drifts by ~10% between passes."""
    from companion.affect.speed import measure

    rates = []
    for _ in range(rounds):
        if hasattr(analyzer, "reset"):
            analyzer.reset()
        rates.append(measure(analyzer, texts, batch))
    return {"messages": len(texts), "batch": batch, "rounds": rounds, "msgs_per_s": round(max(rates), 1),
            "msgs_per_s_median": round(statistics.median(rates), 1)}


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "torch": torch.__version__}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-op", action="store_true", help="measure the runtime alone")
    p.add_argument("--messages", type=int, default=3000, help="messages for our throughput run")
    p.add_argument("--baseline-messages", type=int, default=150)
    p.add_argument("--rate", type=float, default=50.0, help="offered rate for the paced run")
    p.add_argument("--paced-seconds", type=float, default=20.0)
    p.add_argument("--skip-baseline", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result: dict[str, Any] = {"machine": _machine()}

    if args.no_op:
        texts = chat_messages(max(args.messages, 100_000), seed=1)
        result["mode"] = "no-op"
        result["runtime"] = asyncio.run(_run(NoopAnalyzer(), texts, None, OverloadMode.BLOCK,
                                             sink=False))
        result["runtime_with_jsonl_sink"] = asyncio.run(
            _run(NoopAnalyzer(), texts, None, OverloadMode.BLOCK))
        print(json.dumps(result))
        return

    from companion.analyzer import Analyzer

    ours = Analyzer.load()
    paced_n = int(args.rate * args.paced_seconds)
    texts = chat_messages(args.messages + paced_n + 2000, seed=2)
    result["ours"] = {
        "analyzer": _analyzer_only(ours, texts[:2000]),
        "throughput": asyncio.run(_run(ours, texts[2000:2000 + args.messages], None,
                                       OverloadMode.BLOCK)),
        "paced": {"offered_msgs_per_s": args.rate,
                  **asyncio.run(_run(ours, texts[2000 + args.messages:], args.rate,
                                     OverloadMode.DEGRADE))},
    }
    if not args.skip_baseline:
        from benchmarks.seed_baseline import SeedBaseline

        base = SeedBaseline()
        btexts = chat_messages(args.baseline_messages * 3, seed=3)
        n = args.baseline_messages
        result["baseline"] = {
            "analyzer": _analyzer_only(base, btexts[:n], batch=1, rounds=1),
            "throughput": asyncio.run(_run(base, btexts[n:2 * n], None, OverloadMode.BLOCK)),
            "paced": {"offered_msgs_per_s": args.rate,
                      **asyncio.run(_run(base, btexts[2 * n:], args.rate, OverloadMode.BLOCK))},
        }
        o, b = result["ours"], result["baseline"]
        result["ratio"] = {
            "analyzer_msgs_per_s": round(o["analyzer"]["msgs_per_s"] / b["analyzer"]["msgs_per_s"], 1),
            "throughput_msgs_per_s": round(o["throughput"]["msgs_per_s"] / b["throughput"]["msgs_per_s"], 1),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
