"""End-to-end pipeline benchmark: prints one JSON object.

    python -m benchmarks.pipeline            # ours vs the seed-style baseline, same run
    python -m benchmarks.pipeline --no-op    # the runtime alone (no-op analyser)
    python -m benchmarks.pipeline --e2e      # the whole engine, every stage on (see end_to_end)
    python -m benchmarks.pipeline --e2e copypasta --skip-baseline

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
    """Offers prepared messages, either as fast as accepted or at a fixed rate, from ``viewers``
    viewers spread over ``channels`` channels."""

    def __init__(self, texts: list[str], rate: float | None = None, channels: int = 4,
                 viewers: int = 500) -> None:
        self.texts, self.rate = texts, rate
        self.channels, self.viewers = channels, viewers
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
            yield ChatMessage(text=text, channel=f"c{i % self.channels}", user=f"u{i % self.viewers}",
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


def copypasta_waves(n: int, seed: int = 0, wave: int = 100, chars: int = 500) -> list[str]:
    """``n`` messages in waves of ``wave``: each wave is one ~``chars``-character copypasta, every
    message of it with 1-3 random character edits (what a raid's accounts send), and one unique
    chat line after every ten messages."""
    import random

    rng = random.Random(seed)
    words = " ".join(chat_messages(400, seed=seed + 100)).split()
    chat = iter(chat_messages(n, seed=seed + 200))
    out: list[str] = []
    while len(out) < n:
        pasta = ""
        while len(pasta) < chars:
            pasta += rng.choice(words) + " "
        for k in range(wave):
            text = pasta[:chars]
            for _ in range(rng.randint(1, 3)):
                j = rng.randrange(len(text))
                text = text[:j] + rng.choice("abcxyz!?") + text[j + 1:]
            out.append(text)
            if k % 10 == 9:
                out.append(next(chat))
    return out[:n]


def real_chat_lines(limit: int | None = None) -> list[str] | None:
    """The shared unlabelled Twitch chat lines in file order (None when the data is absent)."""
    from companion.affect.datasets import default_data_dir

    path = default_data_dir() / "twitch_sentiment" / "chat_unlabelled.txt"
    if not path.exists():
        return None
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [ln for ln in lines if ln]
    return lines[:limit] if limit else lines


async def _run_engine(analyzer: Any, texts: list[str], rate: float | None, channels: int,
                      viewers: int) -> dict:
    """The whole engine (memory, analytics, character, JSONL sink; no dashboard) on a fresh data
    folder, fed by a list source."""
    from companion.engine import Engine, EngineConfig

    with tempfile.TemporaryDirectory() as tmp:
        cfg = EngineConfig(data_dir=Path(tmp) / "data", out=Path(tmp) / "out.jsonl", dashboard=False)
        cfg.runtime.overload = OverloadPolicy(mode=OverloadMode.BLOCK if rate is None else OverloadMode.DEGRADE)
        engine = await Engine.open(cfg, analyzer)
        summary = await engine.run([("bench", _ListSource(texts, rate, channels, viewers))],
                                   install_signals=False)
        d = summary.to_dict()
        out = {k: d[k] for k in ("messages", "degraded", "msgs_per_s", "p50_ms", "p99_ms")}
        lines = (Path(tmp) / "out.jsonl").read_text(encoding="utf-8").splitlines()
        out["records_written"] = len(lines)
        out["memories_stored"] = sum(1 for ln in lines if '"stored": true' in ln or '"stored":true' in ln)
    cache = getattr(analyzer, "text_cache", None)
    if cache is not None:
        out["cache"] = {"hit_rate": round(cache.hit_rate, 3), "entries": len(cache)}
    return out


def end_to_end(analyzer: Any, modes: list[str], n_unique: int, n_real: int | None, n_pasta: int,
               rate: float, paced_seconds: float) -> dict:
    """Every stage on, per mode: ``unique`` (4,000 unique lines from 400 viewers on 2 channels, as
    fast as possible), ``real-chat`` (the shared Twitch lines as they come), ``copypasta``
    (500-character near-duplicate waves) and ``paced`` (``rate`` msgs/s, p99 latency)."""
    out: dict[str, Any] = {}
    for mode in modes:
        cache = getattr(analyzer, "text_cache", None)
        if cache is not None:  # each mode starts cold, hit counters included
            cache.clear()
            cache.hits = cache.misses = 0
        if hasattr(analyzer, "reset"):
            analyzer.reset()
        if mode == "unique":
            texts, rate_, ch, vw = chat_messages(n_unique, seed=11), None, 2, 400
        elif mode == "real-chat":
            texts, rate_, ch, vw = real_chat_lines(n_real), None, 1, 2000
            if texts is None:
                out[mode] = {"skipped": "../shared/data/twitch_sentiment/chat_unlabelled.txt not found"}
                continue
        elif mode == "copypasta":
            texts, rate_, ch, vw = copypasta_waves(n_pasta, seed=5), None, 2, 1000
        elif mode == "paced":
            texts, rate_, ch, vw = chat_messages(int(rate * paced_seconds), seed=12), rate, 2, 400
        else:
            raise ValueError(f"unknown end-to-end mode {mode!r}")
        started = time.perf_counter()
        out[mode] = asyncio.run(_run_engine(analyzer, texts, rate_, ch, vw))
        out[mode]["wall_s"] = round(time.perf_counter() - started, 1)
        if rate_:
            out[mode]["offered_msgs_per_s"] = rate_
    return out


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
    p.add_argument("--e2e", nargs="*", default=None, metavar="MODE",
                   help="end-to-end runs with every stage on: unique real-chat copypasta paced "
                        "(no MODE: all four); replaces the runtime-only runs")
    p.add_argument("--e2e-unique", type=int, default=4000)
    p.add_argument("--e2e-real", type=int, default=0, help="real-chat lines (0: all of them)")
    p.add_argument("--e2e-pasta", type=int, default=3000)
    p.add_argument("--e2e-rate", type=float, default=200.0)
    p.add_argument("--e2e-paced-seconds", type=float, default=20.0)
    p.add_argument("--analyzer-rounds", type=int, default=3, help="analyser-alone passes (0: skip)")
    p.add_argument("--precision", default="bf16", help="encoder precision: bf16 | fp32 | int8 | int8-torch")
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

    ours = Analyzer.load(precision=args.precision)
    result["precision"] = args.precision
    if args.e2e is not None:
        result["mode"] = "end-to-end"
        result["ours"] = end_to_end(ours, args.e2e or ["unique", "real-chat", "copypasta", "paced"],
                                    args.e2e_unique, args.e2e_real or None, args.e2e_pasta,
                                    args.e2e_rate, args.e2e_paced_seconds)
        if args.analyzer_rounds:
            result["ours"]["analyzer"] = _analyzer_only(ours, chat_messages(2000, seed=2),
                                                        rounds=args.analyzer_rounds)
        if not args.skip_baseline:
            from benchmarks.seed_baseline import SeedBaseline

            base = SeedBaseline()
            btexts = chat_messages(args.baseline_messages * 2, seed=3)
            n = args.baseline_messages
            result["baseline"] = {
                "analyzer": _analyzer_only(base, btexts[:n], batch=1, rounds=1),
                "throughput": asyncio.run(_run(base, btexts[n:], None, OverloadMode.BLOCK)),
            }
            result["ratio"] = {}
            if "analyzer" in result["ours"]:
                result["ratio"]["analyzer_msgs_per_s"] = round(
                    result["ours"]["analyzer"]["msgs_per_s"] / result["baseline"]["analyzer"]["msgs_per_s"], 1)
            for mode in ("unique", "real-chat", "copypasta"):
                if "msgs_per_s" in result["ours"].get(mode, {}):
                    result["ratio"][f"{mode}_vs_baseline_throughput"] = round(
                        result["ours"][mode]["msgs_per_s"] / result["baseline"]["throughput"]["msgs_per_s"], 1)
        print(json.dumps(result))
        return
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
