"""The memory inspector over HTTP (the viewer drawer's profile, facts, memories with score parts,
episodes and graph neighbours, plus edit, pin and forget):

  GET  /api/inspector/{viewer_id}[?q=...]     everything about one viewer; with ``q`` the
                                             memories are that search's hits with every score part
  POST /api/inspector/memories/{id}/edit      {"text": "..."}
  POST /api/inspector/memories/{id}/pin       {"pinned": true | false}
  POST /api/inspector/memories/{id}/forget    {}
  POST /api/inspector/{viewer_id}/facts       {"key": "...", "value": "..."}

Registered on the dashboard app, so its middlewares (bearer token, Origin/Host and
Content-Type checks, security headers) apply; POST bodies must be application/json.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENGINE_KEY: web.AppKey[Any] = web.AppKey("inspector_engine", object)
MAX_MEMORIES = 50


class EditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)


class PinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pinned: bool


class ForgetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FactBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")
    value: str = Field(min_length=1, max_length=200)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, default=str))


def _store(request: web.Request) -> Any:
    return getattr(request.app[ENGINE_KEY], "memory", None)


async def _body(request: web.Request, model: type[BaseModel]) -> BaseModel | web.Response:
    if request.content_type != "application/json":
        return _json({"error": "body must be application/json"}, 415)
    try:
        raw = await request.json()
        return model.model_validate(raw if raw is not None else {})
    except (ValueError, UnicodeDecodeError, ValidationError) as exc:
        return _json({"error": f"bad body: {str(exc)[:200]}"}, 400)


def _mem_id(request: web.Request) -> int | None:
    try:
        return int(request.match_info["mem_id"])
    except ValueError:
        return None


def _memory_row(store: Any, m: dict[str, Any]) -> dict[str, Any]:
    rec = store.memory(int(m["id"]))
    row = dict(m)
    if rec is not None:
        row.update({"kind": rec.kind, "count": rec.count, "last_seen": rec.last_seen or rec.ts,
                    "fact_key": rec.fact_key, "topics": rec.keywords, "entities": rec.entities,
                    "summary_id": rec.summary_id, "summary_of": rec.summary_of})
    return row


def _inspect(store: Any, viewer_id: str, q: str | None) -> dict[str, Any] | None:
    view = store.viewer_view(viewer_id)
    if view is None:
        return None
    if q:
        hits = store.search(q, viewer=viewer_id, k=20, reinforce=False)
        memories = [_memory_row(store, h.to_dict()) for h in hits]
    else:
        memories = []
        for m in view["memories"][:MAX_MEMORIES]:
            row = _memory_row(store, m)
            row["parts"] = {"recency": m["retention"], "importance": m["importance"], "access": m["access"]}
            memories.append(row)
    profile = view["profile"] or {}
    return {"viewer_id": viewer_id, "query": q or None, "profile": profile,
            "facts": profile.get("facts", {}), "memories": memories,
            "episodes": [e.to_dict() for e in store.viewer_episodes(viewer_id, 10)],
            "graph": view["graph"]}


async def get_viewer(request: web.Request) -> web.Response:
    store = _store(request)
    if store is None:
        return _json({"error": "memory store is not enabled"}, 503)
    q = request.query.get("q", "").strip()[:500] or None
    if q and store.embed is None:
        return _json({"error": "searching needs the encoder"}, 503)
    out = await asyncio.to_thread(_inspect, store, request.match_info["viewer_id"], q)
    if out is None:
        return _json({"error": "unknown viewer"}, 404)
    return _json(out)


async def edit_memory(request: web.Request) -> web.Response:
    store, mid = _store(request), _mem_id(request)
    if store is None:
        return _json({"error": "memory store is not enabled"}, 503)
    body = await _body(request, EditBody)
    if isinstance(body, web.Response):
        return body
    if mid is None:
        return _json({"error": "memory id must be an integer"}, 400)
    rec = await asyncio.to_thread(store.edit_memory, mid, body.text)
    return _json({"id": mid, "text": rec.text}) if rec else _json({"error": "no such memory"}, 404)


async def pin_memory(request: web.Request) -> web.Response:
    store, mid = _store(request), _mem_id(request)
    if store is None:
        return _json({"error": "memory store is not enabled"}, 503)
    body = await _body(request, PinBody)
    if isinstance(body, web.Response):
        return body
    if mid is None:
        return _json({"error": "memory id must be an integer"}, 400)
    rec = await asyncio.to_thread(store.set_pinned, mid, body.pinned)
    if rec is None:
        return _json({"error": "no such memory"}, 404)
    return _json({"id": mid, "pinned": rec.pinned, "tier": rec.tier})


async def forget_memory(request: web.Request) -> web.Response:
    store, mid = _store(request), _mem_id(request)
    if store is None:
        return _json({"error": "memory store is not enabled"}, 503)
    body = await _body(request, ForgetBody)
    if isinstance(body, web.Response):
        return body
    if mid is None:
        return _json({"error": "memory id must be an integer"}, 400)
    ok = await asyncio.to_thread(store.forget_memory, mid)
    return _json({"id": mid, "forgotten": True}) if ok else _json({"error": "no such memory"}, 404)


async def pin_fact(request: web.Request) -> web.Response:
    store = _store(request)
    if store is None:
        return _json({"error": "memory store is not enabled"}, 503)
    body = await _body(request, FactBody)
    if isinstance(body, web.Response):
        return body
    mid = await asyncio.to_thread(store.pin_fact, request.match_info["viewer_id"], body.key, body.value)
    return _json({"viewer_id": request.match_info["viewer_id"], "key": body.key, "value": body.value,
                  "memory_id": mid})


def register_routes(app: web.Application, engine: Any) -> None:
    """Add the inspector routes for ``engine`` (its ``memory`` store) to ``app``."""
    app[ENGINE_KEY] = engine
    app.router.add_get("/api/inspector/{viewer_id}", get_viewer)
    app.router.add_post("/api/inspector/memories/{mem_id}/edit", edit_memory)
    app.router.add_post("/api/inspector/memories/{mem_id}/pin", pin_memory)
    app.router.add_post("/api/inspector/memories/{mem_id}/forget", forget_memory)
    app.router.add_post("/api/inspector/{viewer_id}/facts", pin_fact)
