"""Character-engine routes.

* ``POST /api/recommendations/ack``: the explicit acknowledgement that the character answered a
  message and used some of the offered memories (the only thing, with ``POST /api/replies``,
  that reinforces a memory).
* ``GET /api/replies/stream``: the reply loop as server-sent events (``delta`` events while the
  model streams, then one ``outcome``: sent, draft, blocked, throttled, skipped or failed).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

MAX_IDS = 100
ENGINE_KEY: web.AppKey[Any] = web.AppKey("character_engine", object)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, default=str))


async def _ack(request: web.Request) -> web.Response:
    """``{"message_id"?: str, "used_memory_ids": [id, ...]}`` -> ``{"reinforced": n, "ignored": [...]}``."""
    character = getattr(request.app[ENGINE_KEY], "character", None)
    if character is None:
        return _json({"error": "the character engine is not enabled"}, 503)
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _json({"error": "body must be a JSON object"}, 400)
    used = body.get("used_memory_ids", []) if isinstance(body, dict) else None
    mid = body.get("message_id") if isinstance(body, dict) else None
    if not isinstance(used, list) or len(used) > MAX_IDS or not all(isinstance(m, (str, int)) for m in used) \
            or (mid is not None and not isinstance(mid, str)):
        return _json({"error": "'used_memory_ids' must be a list of ids and 'message_id' a string"}, 400)
    result = await asyncio.to_thread(character.acknowledge, [str(m) for m in used], mid)
    return _json(result)


async def _reply_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events of the bus ``reply`` topic until the client goes away."""
    bus = getattr(request.app[ENGINE_KEY], "bus", None)
    if bus is None:
        return _json({"error": "no event bus"}, 503)
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    sub = bus.subscribe("reply", maxsize=256)
    try:
        await resp.write(b": connected\n\n")
        async for item in sub:
            await resp.write(f"data: {json.dumps(item, default=str)}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        sub.close()
    return resp


def register_routes(app: web.Application, engine: Any) -> None:
    """Add the character routes to the dashboard app."""
    app[ENGINE_KEY] = engine
    app.router.add_post("/api/recommendations/ack", _ack)
    app.router.add_get("/api/replies/stream", _reply_stream)
