"""``GET /overlay``: an OBS browser source (transparent background) showing the companion's
expression, mood gauges, the current pick and the reply being streamed, live over
``WS /ws/overlay``.

The WebSocket sends ``{"type": "mood", ...}`` (each mood snapshot the character engine
publishes), ``{"type": "recommendation", ...}`` (each new recommendation) and the reply loop's
``{"type": "delta" | "outcome", ...}`` events, after a first ``{"type": "hello", "mood", "recommendation"}``.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from aiohttp import web

STATIC = Path(__file__).parent / "static"
ENGINE_KEY: web.AppKey[Any] = web.AppKey("overlay_engine", object)
TOPICS = ("mood", "recommendations", "reply")


async def overlay_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "overlay.html", headers={"Cache-Control": "no-cache"})


def _hello(engine: Any) -> dict[str, Any]:
    character = getattr(engine, "character", None)
    if character is None:
        return {"type": "hello", "mood": None, "recommendation": None}
    rec = character.recommendation_snapshot() if hasattr(character, "recommendation_snapshot") \
        else character.next_recommendation()
    mood = character.mood_snapshot() if hasattr(character, "mood_snapshot") else character.mood_state()
    return {"type": "hello", "mood": mood, "recommendation": rec.to_dict() if rec is not None else None}


async def overlay_ws(request: web.Request) -> web.WebSocketResponse:
    """Forward the mood, recommendation and reply topics of the bus to one overlay page."""
    engine = request.app[ENGINE_KEY]
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
    await ws.prepare(request)
    subs = [engine.bus.subscribe(t, maxsize=32) for t in TOPICS]
    out: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=64)

    async def pump(sub: Any, topic: str) -> None:
        async for item in sub:
            msg = item.to_dict() if hasattr(item, "to_dict") else dict(item)
            msg = {"type": {"mood": "mood", "recommendations": "recommendation"}.get(topic, msg.get("type", topic)),
                   **({"data": msg} if topic != "reply" else msg)}
            if out.full():
                out.get_nowait()  # a slow page skips the oldest, never holds the bus
            out.put_nowait(msg)

    async def send() -> None:
        await ws.send_str(json.dumps(_hello(engine), default=str))
        while True:
            await ws.send_str(json.dumps(await out.get(), default=str))

    tasks = [asyncio.create_task(pump(s, t)) for s, t in zip(subs, TOPICS)] + [asyncio.create_task(send())]
    try:
        async for _ in ws:
            pass
    finally:
        for t in tasks:
            t.cancel()
        for s in subs:
            s.close()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError, Exception):
                await t
    return ws


def register_routes(app: web.Application, engine: Any) -> None:
    """Add ``GET /overlay`` and ``WS /ws/overlay``."""
    app[ENGINE_KEY] = engine
    app.router.add_get("/overlay", overlay_page)
    app.router.add_get("/ws/overlay", overlay_ws)
