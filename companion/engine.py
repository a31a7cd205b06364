"""Wires the engine: analyser, stages (enrich, remember, analytics, character), sinks, the
dashboard server and the sources, around one :class:`pipelines.runtime.Runtime`."""
from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterable

from companion.allocator import tune_malloc
from companion.messages import ChatMessage
from pipelines.bus import Bus
from pipelines.enrich import EnrichStage
from pipelines.forget import ForgetStage
from pipelines.metrics import Metrics
from pipelines.overload import OverloadMode, OverloadPolicy
from pipelines.runtime import Runtime, RunSummary, RuntimeConfig
from pipelines.sink import JsonlSink, TeeSink
from pipelines.stage import Stage

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ConfigError(ValueError):
    """The engine refuses to start with this configuration."""


@dataclass(slots=True)
class EngineConfig:
    data_dir: Path = Path("companion-data")
    out: Path | None = None
    redis_out: str | None = None  # URL: also append records to the companion:records stream
    dashboard: bool = True
    host: str = "127.0.0.1"
    port: int = 8765
    api_token: str | None = None
    reply: bool = False
    moderate: bool = False
    moderation: Path | None = None  # --moderation FILE: policy merged over character.json's
    character_name: str = "Aiko"
    memory: bool = True
    analytics: bool = True
    character: bool = True
    lexicon_only: bool = False  # skip the neural models entirely (every record degraded)
    llm: str | None = None  # --llm openai:URL[,model=...]: the reply loop (companion.character.reply_loop)
    vts: str | None = None  # --vts ws://HOST:PORT: drive VTube Studio (companion.character.avatar)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def validate(self) -> None:
        """Refuse unsafe or impossible settings with a clear message."""
        if self.dashboard and self.host not in LOOPBACK_HOSTS and not self.api_token:
            raise ConfigError(
                f"refusing to serve on non-loopback host {self.host!r} without an API token: "
                "set COMPANION_API_TOKEN")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port out of range: {self.port}")
        if self.llm:
            from companion.character.llm_client import LLMSpec

            try:
                LLMSpec.parse(self.llm)
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
        if self.vts and not self.vts.startswith(("ws://", "wss://")):
            raise ConfigError(f"--vts must be a ws:// address, got {self.vts!r}")


def overload_from_name(name: str) -> OverloadPolicy:
    return OverloadPolicy(mode=OverloadMode(name))


class LexiconOnly:
    """Wraps an analyser so every batch gets the lexicon pass only (``--lexicon-only``)."""

    def __init__(self, analyzer: Any) -> None:
        self._analyzer = analyzer

    def analyze_messages(self, msgs: list[ChatMessage], deep: bool = True) -> list:
        return self._analyzer.analyze_messages(msgs, deep=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._analyzer, name)


class Engine:
    """One running companion. Build it, then ``await engine.run(sources)``."""

    def __init__(self, config: EngineConfig, analyzer: Any | None = None) -> None:
        config.validate()
        tune_malloc()  # before the models start threads: flat RSS (companion/allocator.py)
        self.config = config
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.bus = Bus()
        self.metrics = Metrics()
        self.analyzer = analyzer if analyzer is not None else self._load_analyzer()
        cache = getattr(self.analyzer, "text_cache", None)
        if cache is not None:
            from companion.affect.analysis_cache import AnalysisCacheCollector

            self.metrics.registry.register(AnalysisCacheCollector(cache))
        self.memory = self._open_memory() if config.memory else None
        self.analytics = self._open_analytics() if config.analytics else None
        self.moderation: Any = None  # companion.moderation.ModerationService, with the character
        self.character = self._open_character() if config.character else None
        self.enrich = EnrichStage()
        self.forget = ForgetStage(self.memory) if self.memory is not None else None
        self.runtime: Runtime | None = None
        self.dashboard = None
        self.sources: list[tuple[str, AsyncIterable]] = []
        self.started_at = time.time()
        self.summary: RunSummary | None = None

    @classmethod
    async def open(cls, config: EngineConfig, analyzer: Any | None = None) -> "Engine":
        """Build an engine without blocking the event loop: loading the models and opening the
        memory store (LMDB, the table and the FAISS snapshot: seconds at a million memories) run
        in a worker thread, so the loop keeps serving while they load."""
        return await asyncio.to_thread(cls, config, analyzer)

    # -- parts ----------------------------------------------------------------------------
    def _load_analyzer(self) -> Any:
        from companion.analyzer import Analyzer

        started = time.perf_counter()
        analyzer = Analyzer.load(character_names=[self.config.character_name])
        log.info("analyser loaded in %.2fs", time.perf_counter() - started)
        return LexiconOnly(analyzer) if self.config.lexicon_only else analyzer

    def _open_memory(self) -> Any:
        from memory_store import MemoryStore

        embed = getattr(self.analyzer, "embed", None)
        return MemoryStore(self.config.data_dir / "memory", embed=embed)

    def _open_analytics(self) -> Any:
        from companion.analytics import Analytics

        return Analytics(self.config.data_dir, bus=self.bus)

    def _open_character(self) -> Any:
        from companion.character import CharacterConfig, CharacterEngine

        char_dir = self.config.data_dir / "character"
        cfg = CharacterConfig.load(char_dir)
        cfg.name = self.config.character_name
        if self.config.moderation is not None:
            from companion.moderation import ModerationPolicy

            try:
                cfg.moderation = ModerationPolicy.from_file(self.config.moderation, base=cfg.moderation)
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
        character = CharacterEngine(char_dir, memory=self.memory, bus=self.bus, config=cfg,
                                    moderate=self.config.moderate,
                                    moderation_executor=self.execute_moderation)
        from companion.moderation import ModerationService

        # One decision per message: the service replaces the character's own moderator.
        self.moderation = ModerationService(cfg.moderation, self.config.data_dir, moderate=self.config.moderate,
                                            bus=self.bus)
        character.moderator = self.moderation
        return character

    def stages(self) -> list[Stage]:
        stages: list[Stage] = [self.enrich]
        if self.memory is not None:
            from memory_store.stage import RememberStage

            stages += [RememberStage(self.memory), self.forget]
        if self.analytics is not None:
            stages.append(self.analytics.stage)
        if self.character is not None:
            stages.append(self.character.stage)
        return stages

    # -- ingest and control ---------------------------------------------------------------
    async def submit(self, messages: list[ChatMessage]) -> int:
        """Queue messages from the API/webhook into the same pipeline as every connector: the
        whole batch or nothing (raises ``pipelines.runtime.Overloaded`` when it cannot be taken
        now, so the webhook answers 503 and the sender retries)."""
        if self.runtime is None:
            raise RuntimeError("engine is not running")
        self.runtime.offer(messages, source="webhook")
        return len(messages)

    async def on_control(self, item: Any) -> None:
        """Platform control events: moderator deletions and bans make the engine forget."""
        from companion.connectors.base import ModerationEvent, ModerationKind

        if isinstance(item, ModerationEvent) and self.moderation is not None:
            self.moderation.observe(item)  # a human moderator's action is a labelled example
        if isinstance(item, ModerationEvent) and self.character is not None:
            if item.kind is ModerationKind.CLEARMSG and item.target_msg_id:
                await asyncio.to_thread(self.character.forget_message, item.target_msg_id)
            elif item.kind is ModerationKind.CLEARCHAT and item.target_user:
                await asyncio.to_thread(self.character.forget_user, item.channel, item.target_user, item.ts)
        if not isinstance(item, ModerationEvent) or self.forget is None:
            return
        if item.kind is ModerationKind.CLEARMSG and item.target_msg_id:
            removed = await self.forget.forget_message(item.target_msg_id)
            log.info("CLEARMSG %s: forgot %s", item.target_msg_id, removed)
        elif item.kind is ModerationKind.CLEARCHAT and item.target_user:
            n = await self.forget.forget_user(item.channel, item.target_user, item.ts)
            log.info("CLEARCHAT %s in %s: forgot %d memories", item.target_user, item.channel, n)

    def reply_guard(self, text: str) -> str | None:
        """Checks what the bot is about to say: a reason to block it, or None. Moderating only
        the input is a known failure of other VTuber bots, so outgoing text gets the same
        toxicity model as chat."""
        rec = self.analyzer.analyze_batch([text])[0]
        if rec.toxicity.flagged:
            return f"toxicity {rec.toxicity.label} ({rec.toxicity.score:.2f})"
        return None

    async def send_reply(self, channel: str, text: str, reply_to_id: str | None = None) -> None:
        """Send an accepted reply through the first source that can send (``--reply`` only)."""
        from companion.connectors.base import SendBlocked, SendDisabled

        if not self.config.reply:
            raise SendDisabled("replies are off: start with --reply")
        reason = await asyncio.to_thread(self.reply_guard, text)
        if reason is not None:
            raise SendBlocked(reason)
        for _, src in self.sources:
            send = getattr(src, "send", None)
            if send is not None:
                await send(channel, text, reply_to_id=reply_to_id)
                return
        raise SendDisabled("no connected source can send replies")

    async def execute_moderation(self, suggestion: Any) -> bool:
        """Runs a moderation suggestion (only with ``--moderate``) through the moderation
        service's backend for its platform (else the first source that can moderate)."""
        if self.moderation is not None:
            return await self.moderation.execute(suggestion)
        for _, src in self.sources:
            moderate = getattr(src, "moderate", None)
            if moderate is not None:
                await moderate(suggestion)
                return True
        log.warning("moderation suggested but no connected source can moderate: %s %s (%s)",
                    suggestion.action, suggestion.user, suggestion.reason)
        return False

    def state(self) -> dict[str, Any]:
        """The JSON snapshot behind ``GET /api/state``."""
        rt = self.runtime
        state: dict[str, Any] = {
            "uptime_s": round(time.time() - self.started_at, 1),
            "pipeline": {
                "accepted": rt.accepted if rt else 0,
                "published": rt.published if rt else 0,
                "failed": rt.failed if rt else 0,
                "in_flight": rt.in_flight if rt else 0,
                "lag_ms": round(rt.lag_ms(), 1) if rt else 0.0,
                "loop_lag_max_ms": round(self.metrics.loop_lag_max_s * 1000.0, 1),
                "degraded": rt.degraded if rt else 0,
                "ingest_depth": rt.ingest.qsize() if rt else 0,
                "latency": self.metrics.latency_percentiles(),
            },
            "sources": {name: getattr(getattr(src, "stats", None), "to_dict", dict)()
                        for name, src in self.sources},
        }
        if self.analytics is not None:
            state["analytics"] = self.analytics.snapshot()
        if self.character is not None:
            state["mood"] = self.character.mood_snapshot()
            rec = self.character.recommendation_snapshot()
            state["recommendation"] = rec.to_dict() if rec is not None else None
        if self.moderation is not None:
            state["moderation"] = self.moderation.state()
        if self.memory is not None:
            # The snapshot the remember stage refreshes: never the store lock on the loop thread.
            state["memory"] = self.memory.stats_snapshot()
        return state

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self, sources: list[tuple[str, AsyncIterable]], *, serve: bool = False,
                  install_signals: bool = True) -> RunSummary:
        """Run the pipeline until the sources end (or until stopped, with ``serve``)."""
        loop = asyncio.get_running_loop()
        sink = self._sink()
        self.sources = sources
        self.runtime = Runtime(self.analyzer, self.stages(), metrics=self.metrics, bus=self.bus,
                               sink=sink, config=self.config.runtime, on_control=self.on_control)
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, self.stop)
                except (NotImplementedError, RuntimeError):
                    pass
        if self.config.dashboard:
            from dashboards.server import DashboardServer

            self.dashboard = DashboardServer(self, host=self.config.host, port=self.config.port,
                                             api_token=self.config.api_token)
            await self.dashboard.start()
        from companion.character.attachments import CharacterAttachments

        self.attachments = CharacterAttachments(self)
        try:
            await self.attachments.start()
            if self.moderation is not None:
                from companion.connectors.twitch_helix import HelixAuthError

                try:
                    await self.moderation.start(sources)
                except HelixAuthError as exc:
                    raise ConfigError(f"--moderate: {exc}") from exc
            self.summary = await self.runtime.run(sources, serve=serve)
        finally:
            await self.attachments.stop()
            if self.dashboard is not None:
                await self.dashboard.stop()
            await self.close()
            if install_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    try:
                        loop.remove_signal_handler(sig)
                    except (NotImplementedError, RuntimeError):
                        pass
        return self.summary

    def _sink(self) -> Any:
        sinks: list[Any] = []
        if self.config.out:
            sinks.append(JsonlSink(self.config.out))
        if self.config.redis_out:
            from pipelines.redis_streams import RedisStreamSink

            sinks.append(RedisStreamSink(self.config.redis_out))
        if not sinks:
            return None
        return sinks[0] if len(sinks) == 1 else TeeSink(sinks)

    def stop(self) -> None:
        """Graceful stop (SIGINT/SIGTERM): stop the sources, drain, flush, close."""
        log.info("stopping: draining queues")
        if self.runtime is not None:
            self.runtime.request_stop()

    async def close(self) -> None:
        for part in (self.character, self.moderation, self.analytics, self.memory):
            close = getattr(part, "close", None)
            if close is not None:
                try:
                    if inspect.iscoroutinefunction(close):
                        await close()
                    else:  # off the loop: the memory store snapshots (FAISS, graph, fsync) here
                        await asyncio.to_thread(close)
                except Exception:
                    log.exception("failed to close %s", type(part).__name__)
