"""The command line (``python run_companion.py ...``); see DESIGN.md for the contract."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import AsyncIterable

from companion.engine import ConfigError, Engine, EngineConfig, overload_from_name
from pipelines.runtime import DEFAULT_BATCH_DEADLINE_MS, RuntimeConfig

DEMO_CHAT = Path(__file__).parent / "demo" / "demo_chat.jsonl"
log = logging.getLogger("companion")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_companion.py",
        description="Real-time streaming companion engine. With no --source it plays the "
                    "bundled demo chat with the dashboard on http://127.0.0.1:8765.")
    p.add_argument("--source", default="demo",
                   help="demo | replay:PATH | stdin | twitch:CHAN[,CHAN...] | discord | webhook | "
                        "redis:URL (consume the companion:ingest stream as a consumer group)")
    p.add_argument("--speed", type=float, default=None,
                   help="replay speed: 0 = as fast as possible, 1 = real time (default: 0 for "
                        "replay:, 1 for the demo)")
    p.add_argument("--out", type=Path, help="write one analysis record per message (JSONL)")
    p.add_argument("--redis-out", metavar="URL",
                   help="also append every record to the companion:records Redis stream")
    p.add_argument("--data-dir", type=Path, default=Path("companion-data"),
                   help="where memory, profiles and analytics persist")
    p.add_argument("--no-dashboard", action="store_true", help="do not serve the web UI/API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--serve", action="store_true",
                   help="keep serving after a replay ends (the demo always does)")
    p.add_argument("--reply", action="store_true",
                   help="allow accepted recommendations to be sent back to chat")
    p.add_argument("--moderate", action="store_true",
                   help="execute moderation suggestions (off: they are only suggested)")
    p.add_argument("--moderation", type=Path, metavar="FILE",
                   help="moderation policy JSON (levels per category, thresholds; see docs/CONNECTORS.md), "
                        "merged over character.json's moderation section")
    p.add_argument("--character-name", default="Aiko")
    p.add_argument("--llm", metavar="openai:URL[,model=NAME]",
                   help="answer the best recommendation through an OpenAI-compatible chat-completions "
                        "endpoint (llama.cpp, Ollama, vLLM, LM Studio, OpenAI with OPENAI_API_KEY); "
                        "replies are sent only with --reply (see docs/CHARACTER.md)")
    p.add_argument("--vts", metavar="ws://HOST:PORT",
                   help="drive a VTube Studio avatar from the companion's expression (see docs/CHARACTER.md)")
    p.add_argument("--overload", choices=["auto", "block", "degrade"], default="auto",
                   help="what to do when analysis falls behind (see docs/OVERLOAD.md)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--batch-deadline-ms", type=float, default=DEFAULT_BATCH_DEADLINE_MS)
    p.add_argument("--queue-size", type=int, default=4096)
    p.add_argument("--lexicon-only", action="store_true",
                   help="skip the neural models (fast, every record degraded)")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--log-level", default="INFO")
    return p


def make_sources(spec: str, speed: float | None, reply: bool) -> tuple[list[tuple[str, AsyncIterable]], bool]:
    """Turn ``--source`` into connector objects. Returns ``(sources, serve)``: whether the
    engine keeps serving after the sources end (the demo and webhook-only runs do)."""
    from companion.connectors.replay import ReplaySource, StdinSource

    kind, _, arg = spec.partition(":")
    if kind == "demo":
        return [("demo", ReplaySource(DEMO_CHAT, speed=1.0 if speed is None else speed,
                                      platform="twitch", rebase=True))], True
    if kind == "replay":
        if not arg:
            raise ConfigError("replay needs a path: --source replay:PATH")
        path = Path(arg)
        if not path.is_file():
            raise ConfigError(f"replay file not found: {path}")
        return [("replay", ReplaySource(path, speed=0.0 if speed is None else speed))], False
    if kind == "stdin":
        return [("stdin", StdinSource())], False
    if kind == "twitch":
        from companion.connectors.twitch_irc import TwitchIRCClient

        channels = [c.strip().lstrip("#").lower() for c in arg.split(",") if c.strip()]
        if not channels:
            raise ConfigError("twitch needs at least one channel: --source twitch:CHANNEL")
        return [("twitch", TwitchIRCClient.from_env(channels, reply=reply))], False
    if kind == "discord":
        from companion.connectors.discord_bot import DiscordSource

        return [("discord", DiscordSource.from_env(reply=reply))], False
    if kind == "webhook":
        return [], True
    if kind == "redis":
        from pipelines.redis_streams import RedisStreamSource

        return [("redis", RedisStreamSource(arg or "redis://127.0.0.1:6379/0"))], False
    raise ConfigError(f"unknown source {spec!r}")


async def _progress(engine: Engine, every_s: float = 5.0) -> None:
    """Live progress for interactive runs (stderr, so --out on stdout stays clean)."""
    last, last_t = 0, time.perf_counter()
    while True:
        await asyncio.sleep(every_s)
        rt = engine.runtime
        if rt is None:
            continue
        now = time.perf_counter()
        rate = (rt.published - last) / (now - last_t)
        last, last_t = rt.published, now
        pct = engine.metrics.latency_percentiles()
        print(f"progress: published={rt.published} degraded={rt.degraded} "
              f"rate={rate:.1f} msg/s queue={rt.ingest.qsize()} p99={pct['p99_ms']}ms",
              file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> int:
    token = os.environ.get("COMPANION_API_TOKEN") or None
    runtime = RuntimeConfig(ingest_capacity=args.queue_size, batch_size=args.batch_size,
                            batch_deadline_ms=args.batch_deadline_ms,
                            overload=overload_from_name(args.overload))
    config = EngineConfig(data_dir=args.data_dir, out=args.out, dashboard=not args.no_dashboard,
                          host=args.host, port=args.port, api_token=token, reply=args.reply,
                          moderate=args.moderate, moderation=args.moderation, character_name=args.character_name,
                          memory=not args.no_memory, lexicon_only=args.lexicon_only,
                          redis_out=args.redis_out, llm=args.llm, vts=args.vts,
                          runtime=runtime)
    config.validate()
    sources, serve_after = make_sources(args.source, args.speed, args.reply)
    engine = await Engine.open(config)  # models and the memory store load off the loop
    if config.dashboard:
        print(f"dashboard: http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    progress = asyncio.create_task(_progress(engine))
    try:
        summary = await engine.run(sources, serve=args.serve or serve_after)
    finally:
        progress.cancel()
    print(summary.line(), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from memory_store.lmdb_check import CorruptStoreError

    try:
        return asyncio.run(run(args))
    except (ConfigError, CorruptStoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
