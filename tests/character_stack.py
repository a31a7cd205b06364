"""A real engine (real analyser, memory store, character engine, dashboard server on loopback)
for the character engine's cross-component tests."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp

from companion.engine import Engine, EngineConfig

_ANALYZER: Any = None


def real_analyzer() -> Any:
    """The shipped analyser, loaded once per test session (it is read-only)."""
    global _ANALYZER
    if _ANALYZER is None:
        from companion.analyzer import Analyzer

        _ANALYZER = Analyzer.load(character_names=["Aiko"])
    return _ANALYZER


class ChatSink:
    """A connected chat that reads nothing and records what the engine sends back to it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None]] = []

    def __aiter__(self) -> "ChatSink":
        return self

    async def __anext__(self) -> Any:
        await asyncio.Event().wait()  # never yields; cancelled when the engine stops

    async def send(self, channel: str, text: str, *, guard: Any = None, reply_to_id: str | None = None) -> None:
        self.sent.append((channel, text, reply_to_id))


@contextlib.asynccontextmanager
async def running_engine(data_dir: Path, sources: list | None = None, **config: Any
                         ) -> AsyncIterator[tuple[Engine, str]]:
    """Start ``Engine`` with webhook ingest and the dashboard on a free port; yields (engine, url)."""
    cfg = EngineConfig(data_dir=data_dir, port=0, **config)
    engine = Engine(cfg, analyzer=real_analyzer())
    task = asyncio.create_task(engine.run(sources or [], serve=True, install_signals=False))
    deadline = time.monotonic() + 30
    while engine.dashboard is None or not engine.dashboard.port or engine.dashboard._runner is None:
        if task.done() or time.monotonic() > deadline:
            task.result()
            raise RuntimeError("engine did not start")
        await asyncio.sleep(0.05)
    try:
        yield engine, f"http://127.0.0.1:{engine.dashboard.port}"
    finally:
        engine.stop()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, 20)


async def post_messages(session: aiohttp.ClientSession, url: str, messages: list[dict]) -> None:
    async with session.post(f"{url}/api/messages", data=json.dumps({"messages": messages}),
                            headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 200, await resp.text()


async def until(pred, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
