"""The asyncio streaming runtime: sources ─► ingest queue ─► micro-batched analysis in a worker
thread ─► stages ─► publish (sink + bus) ─► followers.

Followers are stages that only read the record (``follows_publish``: the character engine). They
run after publish, in their own chain, so the record a dashboard, sink or bot receives does not
wait for them; their own receive-to-done latency is measured apart
(``companion_follower_latency_seconds``). Their queue is bounded like the others, so a follower
that falls far behind slows publish (backpressure) instead of growing without bound.

Every hop is a queue with one consumer, so messages leave in the order they arrived (and in
particular in order within each channel). At most ``ingest_capacity`` messages are in flight
across all queues together (a budget in messages, not in batches), so the shutdown drain is
bounded by ``ingest_capacity / throughput`` (docs/OVERLOAD.md). Shutdown pushes an end marker
through every queue, so whatever was accepted is analysed, published and flushed before ``run``
returns.

One bad message costs only itself: a batch that raises in the analyser or a stage is retried
message by message, and only the message that still fails is counted (``companion_messages_failed``
when no record could be made, ``companion_message_stage_errors`` when a stage skipped it). A sink
write that fails is counted and the pipeline goes on. The counters reconcile at every moment:
accepted = published + failed + in flight.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, AsyncIterable, Awaitable, Callable, Protocol

from companion.allocator import trim
from companion.gc_freeze import freeze_startup, freeze_survivors
from companion.messages import ChatMessage
from companion.records import AnalysisRecord
from pipelines.batcher import END, MicroBatcher
from pipelines.bus import Bus
from pipelines.event import Event
from pipelines.loop_probe import probe_loop_lag
from pipelines.metrics import Metrics
from pipelines.overload import OverloadPolicy
from pipelines.stage import MessageErrors, Stage

log = logging.getLogger(__name__)

TRIM_EVERY_S = 30.0
# A full collection walks every object not yet frozen, so the freeze interval bounds its pause
# (30 s of survivors at 100 msgs/s: up to 266 ms a pass). A shorter interval was tried (2 s: full
# passes 38 -> 3 in a 3-minute soak, loop-lag max 162 -> 140 ms, within noise) and not kept: a
# cycle frozen before it dies is never collected, and full passes collect ~34 such objects/s.
FREEZE_EVERY_S = 30.0
# A stage behind schedule merges waiting batches up to this many analyser batches per call.
STAGE_COALESCE = 4


class AnalyzerLike(Protocol):
    def analyze_messages(self, msgs: list[ChatMessage], deep: bool = True) -> list[Event]: ...


class Sink(Protocol):
    def write(self, records: list[AnalysisRecord]) -> None: ...

    def close(self) -> None: ...


# How long a micro-batch waits for more messages after its first. A model call costs ~12 ms of
# fixed weight reads on 2 cores whatever its size (1 message: 12.9 ms each; 4: 4.3 ms each), so at
# live rates a short wait that doubles the batch buys back more time than it adds.
DEFAULT_BATCH_DEADLINE_MS = 25.0


@dataclass(slots=True)
class RuntimeConfig:
    # The most messages in flight anywhere in the pipeline (``--queue-size``).
    ingest_capacity: int = 4096
    batch_size: int = 64
    batch_deadline_ms: float = DEFAULT_BATCH_DEADLINE_MS
    overload: OverloadPolicy = field(default_factory=OverloadPolicy)


class Overloaded(RuntimeError):
    """The runtime cannot take a batch now; nothing of it was taken. Retry after the hint."""

    def __init__(self, reason: str, retry_after_s: float = 1.0) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


@dataclass(slots=True)
class RunSummary:
    messages: int  # accepted
    published: int
    bad_lines: int
    degraded: int
    elapsed_s: float
    p50_ms: float | None
    p99_ms: float | None
    failed: int = 0  # accepted but no record could be made (counted with the stage)
    in_flight: int = 0  # accepted, neither published nor failed: must be 0 after a clean drain
    sink_failures: int = 0

    @property
    def reconciled(self) -> bool:
        """accepted = published + failed + in flight."""
        return self.messages == self.published + self.failed + self.in_flight

    @property
    def msgs_per_s(self) -> float:
        return self.published / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1f}ms"
        return (f"summary: messages={self.messages} published={self.published} "
                f"failed={self.failed} in_flight={self.in_flight} bad_lines={self.bad_lines} "
                f"degraded={self.degraded} sink_failures={self.sink_failures} "
                f"msgs/s={self.msgs_per_s:.1f} p50={ms(self.p50_ms)} p99={ms(self.p99_ms)}"
                + ("" if self.reconciled else " COUNTERS-DO-NOT-RECONCILE"))

    def to_dict(self) -> dict[str, Any]:
        return {"messages": self.messages, "accepted": self.messages, "published": self.published,
                "failed": self.failed, "in_flight": self.in_flight,
                "reconciled": self.reconciled, "sink_failures": self.sink_failures,
                "bad_lines": self.bad_lines,
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
        self._chain = [s for s in self.stages if not getattr(s, "follows_publish", False)]
        self._followers = [s for s in self.stages if getattr(s, "follows_publish", False)]
        self.metrics = metrics or Metrics()
        self.bus = bus or Bus()
        self.sink = sink
        self.config = config or RuntimeConfig()
        self.on_control = on_control
        cap = max(1, self.config.ingest_capacity)
        self.capacity = cap
        # The in-flight budget bounds every queue in messages; the +1 keeps room for END.
        self.ingest: asyncio.Queue = asyncio.Queue(maxsize=cap + 1)
        stage_batches = max(2, math.ceil(cap / max(1, self.config.batch_size)))
        self._stage_queues = [asyncio.Queue(maxsize=stage_batches)
                              for _ in range(len(self._chain) + 1)]
        self._follow_queues = [asyncio.Queue(maxsize=stage_batches) for _ in self._followers]
        self._room = asyncio.Event()
        self._room.set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyze")
        self._policy = self.config.overload
        self._sources: list[AsyncIterable] = []
        self._feeders: list[asyncio.Task] = []
        self._stop = asyncio.Event()
        self._ended = False
        self.accepted = 0
        self._in_counters: dict[str, Any] = {}
        self.published = 0
        self.failed = 0
        self.sink_failures = 0
        self.rejected = 0  # bad input refused at an edge that has no source stats (the webhook)
        self.degraded = 0
        # For lag_ms: when the pipeline last went from empty to busy, and the receive time of
        # the newest published message (everything still in flight arrived after it).
        self._busy_since = 0.0
        self._last_published_rx = 0.0

    # -- accounting -----------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        """Accepted messages neither published nor failed yet."""
        return self.accepted - self.published - self.failed

    def lag_ms(self) -> float:
        """End-to-end lag: an upper bound on the age of the oldest message in the pipeline."""
        if self.in_flight <= 0:
            return 0.0
        since = max(self._busy_since, self._last_published_rx)
        return max(0.0, (time.perf_counter() - since) * 1000.0)

    def _accept(self, msg: ChatMessage, source: str) -> None:
        if self.in_flight <= 0:
            self._busy_since = time.perf_counter()
        self.ingest.put_nowait(msg)
        self.accepted += 1
        counter = self._in_counters.get(source)
        if counter is None:
            counter = self._in_counters[source] = self.metrics.messages_in.labels(source=source)
        counter.inc()
        self.metrics.in_flight.set(self.in_flight)
        if self.in_flight >= self.capacity:
            self._room.clear()

    def _left(self, n_published: int, n_failed: int = 0) -> None:
        self.published += n_published
        self.failed += n_failed
        self.metrics.in_flight.set(self.in_flight)
        if self.in_flight < self.capacity:
            self._room.set()

    def _fail(self, msg: ChatMessage, stage: str, exc: BaseException | str) -> None:
        """One accepted message that could not become a record: counted with its stage."""
        log.error("message %s lost in %s: %s", msg.id, stage, exc)
        self.metrics.failed.labels(stage=stage).inc()
        self._left(0, 1)

    def count_rejected(self, source: str, n: int = 1) -> None:
        """Input refused at an edge (e.g. a webhook message failing validation)."""
        self.rejected += n
        self.metrics.bad_lines.labels(source=source).inc(n)

    # -- ingest ---------------------------------------------------------------------------
    async def submit(self, msg: ChatMessage, source: str = "api") -> None:
        """Queue one message; waits while the pipeline holds ``ingest_capacity`` messages
        (backpressure, never loss)."""
        while True:
            if self._ended:
                raise RuntimeError("runtime is shutting down; message not accepted")
            if self.in_flight < self.capacity:
                self._accept(msg, source)
                return
            self._room.clear()
            await self._room.wait()

    def offer(self, msgs: list[ChatMessage], source: str = "webhook") -> None:
        """Take a whole batch now or none of it: raises :class:`Overloaded` when it does not fit
        in the in-flight budget or the end-to-end lag is above the policy's ``shed_lag_ms``."""
        if self._ended:
            raise Overloaded("the engine is shutting down", retry_after_s=5.0)
        if len(msgs) > self.capacity:
            raise ValueError(f"a batch of {len(msgs)} is larger than the queue ({self.capacity})")
        lag = self.lag_ms()
        if self.in_flight + len(msgs) > self.capacity or self._policy.shed(lag):
            self.metrics.stage_errors.labels(stage="overload_refused").inc()
            retry = min(30.0, max(1.0, lag / 1000.0))
            raise Overloaded(f"overloaded: {self.in_flight} in flight, lag {lag:.0f} ms",
                             retry_after_s=retry)
        for msg in msgs:
            self._accept(msg, source)

    async def _feed(self, source: AsyncIterable, name: str) -> None:
        async for item in source:
            if isinstance(item, ChatMessage):
                await self.submit(item, name)
            elif self.on_control is not None:
                try:
                    result = self.on_control(item)
                    if inspect.isawaitable(result):
                        await result
                except Exception:  # a control event's failure must not end the source
                    log.exception("control handler failed on %s from %s", type(item).__name__, name)

    @property
    def policy(self) -> OverloadPolicy:
        """The overload policy in force (``auto`` resolved once ``run`` starts)."""
        return self._policy

    def request_stop(self) -> None:
        """Stop reading sources; everything already accepted is still processed and flushed."""
        self._stop.set()

    # -- workers --------------------------------------------------------------------------
    async def _analyze_worker(self) -> None:
        loop = asyncio.get_running_loop()
        batcher: MicroBatcher[ChatMessage] = MicroBatcher(
            self.ingest, self.config.batch_size, self.config.batch_deadline_ms)
        out = self._stage_queues[0]
        last_trim = last_freeze = time.monotonic()
        while (batch := await batcher.next_batch()) is not None:
            items = batch.items
            lag = self.lag_ms()
            self.metrics.lag_seconds.set(lag / 1000.0)
            deep = self._policy.deep(lag)
            self.metrics.batch_size.observe(len(items))
            self.metrics.queue_depth.labels(queue="ingest").set(self.ingest.qsize())
            started = time.perf_counter()
            events = await self._analyze(loop, items, deep)
            self.metrics.stage_seconds.labels(stage="analyze").observe(time.perf_counter() - started)
            self.metrics.stage_items.labels(stage="analyze").inc(len(events))
            n_degraded = sum(1 for e in events if e.record.degraded)
            if n_degraded:
                self.degraded += n_degraded
                self.metrics.degraded.inc(n_degraded)
            if events:
                await out.put(events)
            if batch.last:
                break
            if time.monotonic() - last_trim >= TRIM_EVERY_S:
                # Free arena pages back to the kernel, on the analyser's own thread between
                # batches (companion/allocator.py: why RSS otherwise climbs).
                last_trim = time.monotonic()
                await loop.run_in_executor(self._executor, trim)
                self.metrics.stage_seconds.labels(stage="malloc_trim").observe(time.monotonic() - last_trim)
            if time.monotonic() - last_freeze >= FREEZE_EVERY_S:
                last_freeze = time.monotonic()
                freeze_survivors()  # companion/gc_freeze.py: full GC passes stalled the loop
                self.metrics.stage_seconds.labels(stage="gc_freeze").observe(time.monotonic() - last_freeze)
        await out.put(END)

    async def _analyze(self, loop: asyncio.AbstractEventLoop, items: list[ChatMessage],
                       deep: bool) -> list[Event]:
        """Analyse a batch; on failure fall back to the lexicon pass, then to one message at a
        time, so a poison message costs only itself (counted in ``companion_messages_failed``)."""
        run = self.analyzer.analyze_messages
        attempts = [deep, False] if deep else [False]
        for attempt in attempts:
            try:
                events = await loop.run_in_executor(self._executor, run, items, attempt)
                return self._checked(items, events)
            except Exception:
                log.exception("%s analysis failed for a batch of %d; %s",
                              "deep" if attempt else "lexicon", len(items),
                              "using lexicon only" if attempt else "retrying one by one")
                self.metrics.stage_errors.labels(stage="analyze").inc()
        events: list[Event] = []
        for msg in items:
            try:
                events += self._checked([msg], await loop.run_in_executor(
                    self._executor, run, [msg], False))
            except Exception as exc:
                self._fail(msg, "analyze", exc)
        return events

    def _checked(self, items: list[ChatMessage], events: list[Event]) -> list[Event]:
        """An analyser that returns fewer events than messages must not leave them in flight."""
        if len(events) != len(items):
            have = {id(e.message) for e in events}
            for msg in items:
                if id(msg) not in have:
                    self._fail(msg, "analyze", "the analyser returned no record")
        return events

    async def _stage_worker(self, stage: Stage, inbox: asyncio.Queue, out: asyncio.Queue | None,
                            follower: bool = False) -> None:
        cap = max(1, self.config.batch_size) * STAGE_COALESCE
        ended = False
        while not ended and (events := await inbox.get()) is not END:
            # A stage that fell behind takes every batch already waiting (up to ``cap``
            # messages) in one call, in order: its fixed cost per call (an LMDB commit with
            # fsync, a thread hop) is paid once, so a backlog shrinks instead of growing.
            while len(events) < cap and not inbox.empty():
                more = inbox.get_nowait()
                if more is END:
                    ended = True
                    break
                events = events + more
            started = time.perf_counter()
            await self._process(stage, events)
            self.metrics.stage_seconds.labels(stage=stage.name).observe(time.perf_counter() - started)
            self.metrics.stage_items.labels(stage=stage.name).inc(len(events))
            self.metrics.queue_depth.labels(queue=stage.name).set(inbox.qsize())
            if follower:
                done = time.perf_counter()
                for ev in events:
                    self.metrics.observe_follower(stage.name, done - ev.message.received_at)
            if out is not None:
                await out.put(events)
        if out is not None:
            await out.put(END)

    async def _process(self, stage: Stage, events: list[Event]) -> None:
        """Run one stage on a batch. When the batch raises, retry it one message at a time so
        only the message that still fails is skipped by this stage (and counted); its record,
        and every other one, flows on. Stages must therefore apply a failed batch not at all
        (the memory store rolls back) or be safe to re-apply."""
        try:
            await stage.process(events)
            return
        except MessageErrors as errors:
            for ev, exc in errors.failures:
                log.error("stage %s skipped message %s: %r", stage.name, ev.message.id, exc)
                self.metrics.message_errors.labels(stage=stage.name).inc()
            return
        except Exception:
            log.exception("stage %s failed on a batch of %d; retrying one by one",
                          stage.name, len(events))
            self.metrics.stage_errors.labels(stage=stage.name).inc()
        if len(events) == 1:
            self.metrics.message_errors.labels(stage=stage.name).inc()
            return
        for ev in events:
            try:
                await stage.process([ev])
            except Exception as exc:
                log.error("stage %s skipped message %s: %r", stage.name, ev.message.id, exc)
                self.metrics.message_errors.labels(stage=stage.name).inc()

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
                try:
                    self.sink.write(records)
                except Exception:  # Redis down, disk full: count it, keep the pipeline moving
                    log.exception("sink write failed for %d records", len(records))
                    self.sink_failures += len(records)
                    self.metrics.sink_failures.inc(len(records))
            if self.bus.subscriber_count("records"):
                for rec in records:
                    try:
                        self.bus.publish("records", rec.to_dict())
                    except Exception:
                        log.exception("record %s could not be published on the bus", rec.id)
            if events:
                self._last_published_rx = max(self._last_published_rx,
                                               max(ev.message.received_at for ev in events))
            self._left(len(records))
            self.metrics.published.inc(len(records))
            if self._follow_queues and events:
                await self._follow_queues[0].put(events)
        if self._follow_queues:
            await self._follow_queues[0].put(END)

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self, sources: list[tuple[str, AsyncIterable]] | None = None, *,
                  serve: bool = False) -> RunSummary:
        """Run until the sources are exhausted (or, with ``serve``, until :meth:`request_stop`),
        then drain every queue and flush the sink."""
        self.bus.bind_loop(asyncio.get_running_loop())
        sources = sources or []
        # HTTP ingest (webhook, POST /api/messages) never pauses: it is refused with 503 on lag
        # (``OverloadPolicy.shed``) in either mode, so ``serve`` does not decide the policy.
        can_pause = all(getattr(src, "can_pause", False) for _, src in sources)
        self._policy = self.config.overload.resolve(sources_can_pause=bool(sources) and can_pause)
        log.info("overload policy: %s", self._policy.mode.value)
        started = time.perf_counter()
        for stage in self.stages:
            await stage.start()
        freeze_startup()
        workers = [asyncio.create_task(self._analyze_worker(), name="analyze")]
        q = self._stage_queues
        workers += [asyncio.create_task(self._stage_worker(st, q[i], q[i + 1]), name=f"stage:{st.name}")
                    for i, st in enumerate(self._chain)]
        fq = self._follow_queues
        workers += [asyncio.create_task(self._stage_worker(st, fq[i], fq[i + 1] if i + 1 < len(fq) else None,
                                                           follower=True), name=f"follower:{st.name}")
                    for i, st in enumerate(self._followers)]
        publisher = asyncio.create_task(self._publish_worker(), name="publish")
        probe = asyncio.create_task(probe_loop_lag(self.metrics), name="loop-lag-probe")
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
            self._room.set()  # wake submitters waiting for room: they now refuse
            drain_started = time.perf_counter()
            self.ingest.put_nowait(END)  # never blocks: the queue keeps one slot for it
            await asyncio.gather(*workers, publisher, return_exceptions=False)
            log.info("drained %d messages in %.2fs", self.published, time.perf_counter() - drain_started)
            for stage in self.stages:
                try:
                    await stage.stop()
                except Exception:
                    log.exception("stage %s failed to stop cleanly", stage.name)
            if self.sink is not None:
                try:
                    self.sink.close()
                except Exception:
                    log.exception("sink failed to close")
            probe.cancel()
            self._executor.shutdown(wait=True)
        elapsed = time.perf_counter() - started
        pct = self.metrics.latency_percentiles()
        bad = self.rejected + sum(getattr(getattr(src, "stats", None), "malformed", 0) or 0
                                  for src in self._sources)
        summary = RunSummary(self.accepted, self.published, bad, self.degraded, elapsed,
                             pct["p50_ms"], pct["p99_ms"], failed=self.failed,
                             in_flight=self.in_flight, sink_failures=self.sink_failures)
        if summary.in_flight:
            log.error("shutdown left %d accepted messages unaccounted for", summary.in_flight)
        return summary

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
