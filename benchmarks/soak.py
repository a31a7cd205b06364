"""Soak: N minutes of live-paced chat through the real engine with every stage on (the real
analyser, memory store, analytics, character engine, the dashboard with one WebSocket client),
then one JSON object: end-to-end latency p50/p99 (overall and after the first minute), the
largest event-loop lag, the RSS series and its growth after the first minute.

    python -m benchmarks.soak --minutes 10 --rate 100

Floors (issue 13): at 100 msgs/s for 10 minutes, p99 <= 250 ms, loop lag <= 50 ms, RSS growth
<= 5 % after the first minute. Viewers keep arriving (a share of every minute's chatters are
new), so anything that grows per viewer shows in the RSS series.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator

from benchmarks.chat_corpus import chat_messages
from companion.messages import ChatMessage
from pipelines.latency_histogram import LatencyHistogram

SAMPLE_EVERY_S = 10.0


class GcPauses:
    """Counts and longest pause per collector generation (``gc.callbacks``): a collection holds
    the GIL, so a long one shows up as loop lag and latency whatever thread triggered it."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.max_ms = [0.0, 0.0, 0.0]
        self.collected = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        g = info.get("generation", 0)
        ms = (time.perf_counter() - self._started) * 1000.0
        self.count[g] += 1
        self.collected[g] += info.get("collected", 0)
        self.max_ms[g] = max(self.max_ms[g], ms)

    def to_dict(self) -> dict[str, list]:
        return {"collections": self.count, "max_ms": [round(x, 1) for x in self.max_ms],
                "collected": self.collected}


def _r(v: float | None) -> float | None:
    return None if v is None else round(float(v), 1)


def rss_mb() -> float:
    """Resident set size of this process, in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def rss_parts_mb() -> dict[str, float]:
    """RSS split into anonymous memory (heap, tensors: what a leak grows) and file-backed pages
    (LMDB's memory map, shared libraries: grows with the data on disk, reclaimable)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                key, value = line.split(":")
                out[key.lower().replace("rss", "rss_") + "_mb"] = round(int(value.split()[0]) / 1000, 1)
    return out


def stage_seconds(metrics) -> dict[str, dict[str, float]]:
    """Total seconds and calls per stage, from the runtime's histograms."""
    out: dict[str, dict[str, float]] = {}
    for metric in metrics.stage_seconds.collect():
        for sample in metric.samples:
            stage = sample.labels.get("stage")
            if sample.name.endswith("_sum"):
                out.setdefault(stage, {})["seconds"] = round(sample.value, 2)
            elif sample.name.endswith("_count"):
                out.setdefault(stage, {})["calls"] = int(sample.value)
    return out


class PacedChat:
    """``rate`` messages/s for ``seconds``: regulars from a fixed pool plus a steady share of new
    viewers (``new_share``), over ``channels`` channels. A live source: it cannot pause."""

    can_pause = False

    def __init__(self, rate: float, seconds: float, channels: int = 2, regulars: int = 2000,
                 new_share: float = 0.3, seed: int = 7) -> None:
        self.rate, self.seconds = rate, seconds
        self.channels, self.regulars, self.new_share = channels, regulars, new_share
        self.rng = random.Random(seed)
        self.texts = chat_messages(min(int(rate * seconds), 200_000), seed=seed)
        self.sent = 0

    def __aiter__(self) -> AsyncIterator[ChatMessage]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[ChatMessage]:
        start = time.perf_counter()
        total = int(self.rate * self.seconds)
        for i in range(total):
            delay = start + i / self.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            text = self.texts[i % len(self.texts)]
            if self.rng.random() < self.new_share:
                user = f"new{i}"
            else:
                user = f"reg{self.rng.randrange(self.regulars)}"
            self.sent += 1
            yield ChatMessage(text=text, channel=f"c{i % self.channels}", user=user,
                              platform="soak")


async def _dashboard_client(url: str, stop: asyncio.Event) -> int:
    """One dashboard WebSocket reading every push (the real push path, state included)."""
    import aiohttp

    got = 0
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, headers={"Origin": url.replace("ws://", "http://").rsplit("/", 1)[0]}) as ws:
            while not stop.is_set():
                try:
                    msg = await asyncio.wait_for(ws.receive(), 1.0)
                except asyncio.TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                got += 1
    return got


async def soak(minutes: float, rate: float, data_dir: Path, threads: int,
               without: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Run the soak and return its figures. ``without``: stages left out (memory, analytics,
    character), to attribute latency or RSS growth to one of them."""
    import torch

    from companion.engine import Engine, EngineConfig

    torch.set_num_threads(threads)
    config = EngineConfig(data_dir=data_dir, port=0, dashboard=True, memory="memory" not in without,
                          analytics="analytics" not in without, character="character" not in without)
    engine = await Engine.open(config)
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    seconds = minutes * 60.0
    source = PacedChat(rate, seconds)
    started = time.perf_counter()
    run = asyncio.create_task(engine.run([("soak", source)], install_signals=False))
    while engine.dashboard is None or not engine.dashboard.port:
        await asyncio.sleep(0.05)
    stop = asyncio.Event()
    client = asyncio.create_task(_dashboard_client(f"ws://127.0.0.1:{engine.dashboard.port}/ws", stop))
    samples: list[dict[str, float]] = []
    window_lag = 0.0
    at_1min = None  # the latency histogram's counts after the first minute (warm-up)
    while not run.done():
        try:
            await asyncio.wait_for(asyncio.shield(run), SAMPLE_EVERY_S)
        except asyncio.TimeoutError:
            pass
        m = engine.metrics
        if at_1min is None and time.perf_counter() - started >= 60:
            at_1min = m._latency.counts.copy()
        window_lag = m.loop_lag_max_s
        rt = engine.runtime
        samples.append({"t_s": round(time.perf_counter() - started, 1), "rss_mb": round(rss_mb(), 1),
                        **rss_parts_mb(),
                        "py_blocks_k": round(sys.getallocatedblocks() / 1000, 1),
                        "published": rt.published if rt else 0,
                        "in_flight": rt.in_flight if rt else 0,
                        "loop_lag_max_ms": round(window_lag * 1000, 1),
                        "loop_lag_window_ms": round(m.pop_loop_lag_window() * 1000, 1)})
    summary = run.result()
    gc.callbacks.remove(pauses)
    stop.set()
    pushes = await client
    hist = engine.metrics._latency
    after = LatencyHistogram()
    after.counts = hist.counts - (at_1min if at_1min is not None else 0)
    after.count = int(after.counts.sum())
    after.max_ms = hist.max_ms
    rss = [s["rss_mb"] for s in samples]
    base = next((s["rss_mb"] for s in samples if s["t_s"] >= 60), rss[0] if rss else 0.0)
    growth = (max(rss[-3:]) - base) / base * 100 if rss and base else None
    return {
        "minutes": minutes, "rate": rate, "offered": source.sent, "torch_threads": threads,
        "without": sorted(without),
        "malloc_tuned": os.environ.get("COMPANION_MALLOC_TUNE", "1") != "0",
        "summary": summary.to_dict(),
        "p50_ms": _r(hist.percentile(50)), "p99_ms": _r(hist.percentile(99)),
        "p50_after_1min_ms": _r(after.percentile(50)), "p99_after_1min_ms": _r(after.percentile(99)),
        "max_ms": _r(hist.max_ms),
        # Stages that follow publish (the character): receive-to-done, not in the record's latency.
        "followers": engine.metrics.follower_percentiles(),
        "gc": pauses.to_dict(),
        "loop_lag_max_ms": round(engine.metrics.loop_lag_max_s * 1000, 1),
        "rss_mb_series": rss,
        "rss_growth_after_1min_pct": round(growth, 2) if growth is not None else None,
        "dashboard_pushes": pushes,
        "stage_seconds": stage_seconds(engine.metrics),
        "cpu_s": round(time.process_time(), 1),
        "samples": samples,
        "memory": engine.memory.stats_snapshot() if engine.memory is not None else None,
        "floors": {"p99_ms": 250, "loop_lag_ms": 50, "rss_growth_pct": 5},
        "machine": {"cpus": os.cpu_count(), "note": "shared machine unless stated"},
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=100.0, help="messages per second offered")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--data-dir", type=Path, default=None, help="default: a fresh temporary dir")
    p.add_argument("--no-malloc-tune", action="store_true",
                   help="leave glibc malloc untuned (A/B of companion/allocator.py)")
    p.add_argument("--without", default="", help="comma-separated stages to leave out: memory, analytics, character")
    args = p.parse_args(argv)
    if args.no_malloc_tune:
        os.environ["COMPANION_MALLOC_TUNE"] = "0"
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    without = frozenset(w for w in args.without.split(",") if w)
    unknown = without - {"memory", "analytics", "character"}
    if unknown:
        p.error(f"--without: unknown stages {sorted(unknown)}")
    if args.data_dir is not None:
        out = asyncio.run(soak(args.minutes, args.rate, args.data_dir, args.threads, without))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = asyncio.run(soak(args.minutes, args.rate, Path(tmp), args.threads, without))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
