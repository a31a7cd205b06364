"""The asyncio streaming runtime: sources ─► ingest queue ─► micro-batched analysis in a worker
thread ─► stages ─► publish (sink + bus).

Every hop is a bounded queue with one consumer, so messages leave in the order they arrived
(and in particular in order within each channel). Shutdown pushes an end marker through every
queue, so whatever was accepted is analysed, published and flushed before ``run`` returns.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, AsyncIterable, Awaitable, Callable, Protocol

from companion.messages import ChatMessage
from companion.records import AnalysisRecord
from pipelines.batcher import END, MicroBatcher
from pipelines.bus import Bus
from pipelines.event import Event
from pipelines.metrics import Metrics
from pipelines.overload import OverloadPolicy
from pipelines.stage import Stage

log = logging.getLogger(__name__)


class AnalyzerLike(Protocol):
    def analyze_messages(self, msgs: list[ChatMessage], deep: bool = True) -> list[Event]: ...


class Sink(Protocol):
    def write(self, records: list[AnalysisRecord]) -> None: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class RuntimeConfig:
    ingest_capacity: int = 4096
    batch_size: int = 64
    batch_deadline_ms: float = 10.0
    stage_queue_batches: int = 256
    overload: OverloadPolicy = field(default_factory=OverloadPolicy)


@dataclass(slots=True)
class RunSummary:
    messages: int
    published: int
    bad_lines: int
    degraded: int
    elapsed_s: float
    p50_ms: float | None
    p99_ms: float | None

    @property
    def msgs_per_s(self) -> float:
        return self.published / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1f}ms"
        return (f"summary: messages={self.published} bad_lines={self.bad_lines} "
                f"degraded={self.degraded} msgs/s={self.msgs_per_s:.1f} "
                f"p50={ms(self.p50_ms)} p99={ms(self.p99_ms)}")

    def to_dict(self) -> dict[str, Any]:
        return {"messages": self.published, "accepted": self.messages, "bad_lines": self.bad_lines,
                "degraded": self.degraded, "elapsed_s": round(self.elapsed_s, 3),
                "msgs_per_s": round(self.msgs_per_s, 1), "p50_ms": self.p50_ms,
                "p99_ms": self.p99_ms}


ControlHandler = Callable[[Any], "Awaitable[None] | None"]


class Runtime:
    """Runs one pipeline. Create it inside a running event loop (queues bind to it)."""

    def __init__(
        self,
        analyzer: AnalyzerLike,
        stages: list[Stage] | None = None,
        *,
        metrics: Metrics | None = None,
        bus: Bus | None = None,
        sink: Sink | None = None,
        config: RuntimeConfig | None = None,
        on_control: ControlHandler | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.stages = list(stages or [])
        self.metrics = metrics or Metrics()
        self.bus = bus or Bus()
        self.sink = sink
        self.config = config or RuntimeConfig()
        self.on_control = on_control
        self.ingest: asyncio.Queue = asyncio.Queue(maxsize=self.config.ingest_capacity)
        self._stage_queues = [asyncio.Queue(maxsize=self.config.stage_queue_batches)
                              for _ in range(len(self.stages) + 1)]
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyze")
        self._policy = self.config.overload
        self._sources: list[AsyncIterable] = []
        self._feeders: list[asyncio.Task] = []
        self._stop = asyncio.Event()
        self._ended = False
        self.accepted = 0
        self._in_counters: dict[str, Any] = {}
        self.published = 0
        self.degraded = 0

    # -- ingest ---------------------------------------------------------------------------
    async def submit(self, msg: ChatMessage, source: str = "api") -> None:
        """Queue one message (waits while the ingest queue is full: backpressure, never loss)."""
        if self._ended:
            raise RuntimeError("runtime is shutting down; message not accepted")
        await self.ingest.put(msg)
        self.accepted += 1
        counter = self._in_counters.get(source)
        if counter is None:
            counter = self._in_counters[source] = self.metrics.messages_in.labels(source=source)
        counter.inc()

    async def _feed(self, source: AsyncIterable, name: str) -> None:
        async for item in source:
            if isinstance(item, ChatMessage):
                await self.submit(item, name)
            elif self.on_control is not None:
                result = self.on_control(item)
                if inspect.isawaitable(result):
                    await result

    def request_stop(self) -> None:
        """Stop reading sources; everything already accepted is still processed and flushed."""
        self._stop.set()

    # -- workers --------------------------------------------------------------------------
    async def _analyze_worker(self) -> None:
        loop = asyncio.get_running_loop()
        batcher: MicroBatcher[ChatMessage] = MicroBatcher(
            self.ingest, self.config.batch_size, self.config.batch_deadline_ms)
        out = self._stage_queues[0]
        while (batch := await batcher.next_batch()) is not None:
            items = batch.items
            oldest_wait_ms = (time.perf_counter() - min(m.received_at for m in items)) * 1000
            deep = self._policy.deep(self.ingest.qsize(), self.config.ingest_capacity,
                                     oldest_wait_ms)
            self.metrics.batch_size.observe(len(items))
            self.metrics.queue_depth.labels(queue="ingest").set(self.ingest.qsize())
            started = time.perf_counter()
            try:
                events = await loop.run_in_executor(
                    self._executor, self.analyzer.analyze_messages, items, deep)
            except Exception:
                # A model failure must not lose the batch: fall back to the lexicon pass.
                log.exception("deep analysis failed for a batch of %d; using lexicon only",
                              len(items))
                self.metrics.stage_errors.labels(stage="analyze").inc()
                events = await loop.run_in_executor(
                    self._executor, self.analyzer.analyze_messages, items, False)
            self.metrics.stage_seconds.labels(stage="analyze").observe(time.perf_counter() - started)
            self.metrics.stage_items.labels(stage="analyze").inc(len(events))
            n_degraded = sum(1 for e in events if e.record.degraded)
            if n_degraded:
                self.degraded += n_degraded
                self.metrics.degraded.inc(n_degraded)
            await out.put(events)
            if batch.last:
                break
        await out.put(END)

    async def _stage_worker(self, index: int) -> None:
        stage = self.stages[index]
        inbox, out = self._stage_queues[index], self._stage_queues[index + 1]
        while (events := await inbox.get()) is not END:
            started = time.perf_counter()
            try:
                await stage.process(events)
            except Exception:
                # One stage failing must not lose records downstream; it is counted and logged.
                log.exception("stage %s failed on a batch of %d", stage.name, len(events))
                self.metrics.stage_errors.labels(stage=stage.name).inc()
            self.metrics.stage_seconds.labels(stage=stage.name).observe(time.perf_counter() - started)
            self.metrics.stage_items.labels(stage=stage.name).inc(len(events))
            self.metrics.queue_depth.labels(queue=stage.name).set(inbox.qsize())
            await out.put(events)
        await out.put(END)

    async def _publish_worker(self) -> None:
        inbox = self._stage_queues[-1]
        want_records = self.sink is not None
        while (events := await inbox.get()) is not END:
            now = time.perf_counter()
            records = []
            for ev in events:
                latency = now - ev.message.received_at
                ev.record.latency_ms = round(latency * 1000.0, 3)
                self.metrics.observe_e2e(latency)
                records.append(ev.record)
            if want_records:
                self.sink.write(records)
            if self.bus.subscriber_count("records"):
                for rec in records:
                    self.bus.publish("records", rec.to_dict())
            self.published += len(records)
            self.metrics.published.inc(len(records))

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self, sources: list[tuple[str, AsyncIterable]] | None = None, *,
                  serve: bool = False) -> RunSummary:
        """Run until the sources are exhausted (or, with ``serve``, until :meth:`request_stop`),
        then drain every queue and flush the sink."""
        self.bus.bind_loop(asyncio.get_running_loop())
        sources = sources or []
        can_pause = all(getattr(src, "can_pause", False) for _, src in sources) and not serve
        self._policy = self.config.overload.resolve(sources_can_pause=bool(sources) and can_pause)
        log.info("overload policy: %s", self._policy.mode.value)
        started = time.perf_counter()
        for stage in self.stages:
            await stage.start()
        workers = [asyncio.create_task(self._analyze_worker(), name="analyze")]
        workers += [asyncio.create_task(self._stage_worker(i), name=f"stage:{s.name}")
                    for i, s in enumerate(self.stages)]
        publisher = asyncio.create_task(self._publish_worker(), name="publish")
        self._sources = [src for _, src in sources]
        self._feeders = [asyncio.create_task(self._feed(src, name), name=f"source:{name}")
                         for name, src in sources]
        stop_wait = asyncio.create_task(self._stop.wait())
        try:
            pending = set(self._feeders)
            if not serve:
                while pending and not self._stop.is_set():
                    done, pending = await asyncio.wait(pending | {stop_wait},
                                                       return_when=asyncio.FIRST_COMPLETED)
                    pending.discard(stop_wait)
                    for task in done:
                        if task is not stop_wait and task.exception() is not None:
                            log.error("source %s failed: %r", task.get_name(), task.exception())
            else:
                await stop_wait
        finally:
            await self._shutdown_sources()
            stop_wait.cancel()
            self._ended = True
            await self.ingest.put(END)
            await asyncio.gather(*workers, publisher, return_exceptions=False)
            for stage in self.stages:
                try:
                    await stage.stop()
                except Exception:
                    log.exception("stage %s failed to stop cleanly", stage.name)
            if self.sink is not None:
                self.sink.close()
            self._executor.shutdown(wait=True)
        elapsed = time.perf_counter() - started
        pct = self.metrics.latency_percentiles()
        bad = sum(getattr(getattr(src, "stats", None), "malformed", 0) or 0
                  for src in self._sources)
        return RunSummary(self.accepted, self.published, bad, self.degraded, elapsed,
                          pct["p50_ms"], pct["p99_ms"])

    async def _shutdown_sources(self) -> None:
        for task in self._feeders:
            if not task.done():
                task.cancel()
        for src in self._sources:
            close = getattr(src, "close", None)
            if close is not None:
                try:
                    result = close()
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("source failed to close")
        await asyncio.gather(*self._feeders, return_exceptions=True)
