"""The dashboard and HTTP/WebSocket API of a running engine (aiohttp)."""
from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .auth import check_bind, security_headers, token_middleware
from .guard import RequestGuard
from .live import LiveFeed

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_K = 100


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, default=str))


def _bad(msg: str, status: int = 400) -> web.Response:
    return _json({"error": msg}, status=status)


def _env_list(name: str) -> list[str]:
    """A comma-separated allow-list from the environment (see docs/SECURITY.md)."""
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


class DashboardServer:
    """Serves ``GET /``, the JSON API, ``/metrics`` and the live WebSockets for ``engine``.

    Binds ``127.0.0.1`` by default. A non-loopback ``host`` needs ``api_token`` (raises
    :class:`~dashboards.auth.InsecureBindError` otherwise); with a token every API, metrics and
    WebSocket call must carry ``Authorization: Bearer <token>`` (WebSockets may use ``?token=``).
    ``port=0`` picks a free port; :attr:`port` is the bound one after :meth:`start`.
    """

    def __init__(self, engine: Any, host: str = "127.0.0.1", port: int = 8765, api_token: str | None = None,
                 push_interval_s: float = 1.0) -> None:
        check_bind(host, api_token)
        self.engine = engine
        self.host = host
        self.port = port
        self.api_token = api_token or None
        self.guard = RequestGuard(host, _env_list("COMPANION_ALLOWED_HOSTS"),
                                  _env_list("COMPANION_ALLOWED_ORIGINS"))
        self.live = LiveFeed(engine, interval_s=push_interval_s)
        self.started_at = time.time()
        self._runner: web.AppRunner | None = None
        self._rec_sockets: set[web.WebSocketResponse] = set()
        self.app = self._build_app()

    # -- wiring ----------------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        # Outermost first: every answer gets the security headers; Host/Origin/Content-Type are
        # checked before the token and before any route, including routes added later.
        app = web.Application(middlewares=[security_headers, self.guard.middleware(),
                                           token_middleware(self.api_token)],
                              client_max_size=1024 * 1024)
        app.router.add_get("/", self.index)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/recommendations/next", self.next_recommendation)
        app.router.add_get("/api/viewers/{viewer_id}", self.viewer)
        app.router.add_delete("/api/viewers/{viewer_id}", self.forget_viewer)
        app.router.add_get("/api/memories/search", self.search_memories)
        app.router.add_get("/ws", self.live.serve)
        app.router.add_get("/ws/recommendations", self.recommendations_ws)
        app.router.add_post("/api/replies", self.send_reply)
        app.router.add_static("/static/", STATIC, follow_symlinks=False)
        try:
            from companion.connectors.webhook import register_routes
        except ImportError:
            log.info("webhook connector not available; POST /api/messages is not served")
        else:
            register_routes(app, self.engine)
        from .moderation_api import register_routes as register_moderation

        register_moderation(app, self.engine)
        from .character_api import register_routes as register_character

        register_character(app, self.engine)
        from .overlay import register_routes as register_overlay

        register_overlay(app, self.engine)
        from .mcp_http import register_routes as register_mcp

        register_mcp(app, self.engine)
        from .inspector_api import register_routes as register_inspector

        register_inspector(app, self.engine)
        return app

    async def start(self) -> None:
        """Bind and serve; returns once listening."""
        await self.live.start()
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("dashboard on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Close every socket and stop serving."""
        await self.live.stop()
        for ws in list(self._rec_sockets) + [c.ws for c in self.live.clients]:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- pages and health ------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def healthz(self, request: web.Request) -> web.Response:
        return _json({"status": "ok", "uptime_s": round(time.time() - self.started_at, 1),
                      "dashboard_clients": len(self.live.clients)})

    async def metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.engine.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    # -- API -------------------------------------------------------------------------------
    async def state(self, request: web.Request) -> web.Response:
        state = dict(self.engine.state())
        an = getattr(self.engine, "analytics", None)
        if "analytics" not in state:
            state["analytics"] = an.snapshot() if an is not None else None
        state["dashboard"] = {"clients": len(self.live.clients), "recommendation_clients": len(self._rec_sockets),
                              "pushes": self.live.seq}
        return _json(state)

    async def next_recommendation(self, request: web.Request) -> web.Response:
        character = getattr(self.engine, "character", None)
        # The loop-safe snapshot when the character engine has one (it never waits on its lock).
        current = getattr(character, "recommendation_snapshot", None) or getattr(
            character, "next_recommendation", None)
        rec = current() if current is not None else None
        if rec is None:
            return web.Response(status=204)
        return _json(rec.to_dict() if hasattr(rec, "to_dict") else rec)

    async def viewer(self, request: web.Request) -> web.Response:
        viewer_id = request.match_info["viewer_id"]
        memory = getattr(self.engine, "memory", None)
        an = getattr(self.engine, "analytics", None)
        view: dict[str, Any] = {}
        if memory is not None:
            view = dict(await asyncio.to_thread(memory.viewer_view, viewer_id) or {})
        engagement = an.viewer_summary(viewer_id) if an is not None else {}
        if not view and not engagement:
            return _bad(f"unknown viewer {viewer_id!r}", 404)
        view.setdefault("viewer_id", viewer_id)
        view["engagement"] = engagement
        return _json(view)

    async def forget_viewer(self, request: web.Request) -> web.Response:
        viewer_id = request.match_info["viewer_id"]
        memory = getattr(self.engine, "memory", None)
        an = getattr(self.engine, "analytics", None)
        result: dict[str, Any] = {"viewer_id": viewer_id, "forgotten": {}}
        if memory is not None:
            report = await asyncio.to_thread(memory.forget_viewer, viewer_id)
            if hasattr(memory, "stats_snapshot"):
                await asyncio.to_thread(memory.stats)  # refresh the snapshot /api/state serves
            result["forgotten"]["memory"] = report.to_dict() if hasattr(report, "to_dict") else report
        if an is not None:
            result["forgotten"]["analytics"] = an.forget_viewer(viewer_id)
        character = getattr(self.engine, "character", None)
        if character is not None:
            result["forgotten"]["character"] = await asyncio.to_thread(character.forget_viewer, viewer_id)
        moderation = getattr(self.engine, "moderation", None)
        if moderation is not None:
            result["forgotten"]["moderation"] = await asyncio.to_thread(moderation.forget_viewer, viewer_id)
        return _json(result)

    async def search_memories(self, request: web.Request) -> web.Response:
        memory = getattr(self.engine, "memory", None)
        if memory is None:
            return _bad("memory store is not enabled", 503)
        q = request.query.get("q", "").strip()
        if not q:
            return _bad("query parameter 'q' is required")
        try:
            k = int(request.query.get("k", "10"))
            since = float(request.query["since"]) if "since" in request.query else None
            until = float(request.query["until"]) if "until" in request.query else None
        except ValueError:
            return _bad("'k' must be an integer and 'since'/'until' epoch seconds")
        if not 1 <= k <= MAX_K:
            return _bad(f"'k' must be between 1 and {MAX_K}")
        if not all(v is None or math.isfinite(v) for v in (since, until)):
            return _bad("'since'/'until' must be finite epoch seconds")
        from memory_store.records import TIERS

        tier = request.query.get("tier") or None
        if tier is not None and tier not in TIERS:
            return _bad(f"'tier' must be one of {', '.join(TIERS)}")
        try:
            results = await asyncio.to_thread(
                memory.search, q, viewer=request.query.get("viewer") or None,
                channel=request.query.get("channel") or None,
                tier=tier, since=since, until=until, k=k, reinforce=False)  # browsing is not recall
        except ValueError as exc:  # e.g. tier=bogus: the caller's mistake, not a server error
            return _bad(str(exc)[:200])
        return _json({"query": q, "k": k, "results": [r.to_dict() if hasattr(r, "to_dict") else r for r in results]})

    async def send_reply(self, request: web.Request) -> web.Response:
        """The character engine accepted a recommendation and says something back to chat:
        ``{"channel", "text", "reply_to_id"?, "used_memory_ids"?}``. Needs ``--reply``; the text is
        checked for toxicity first (403 with the reason when blocked); a reply to a deleted message
        is refused (409). The memories the reply used are reinforced (only now, never on recall)."""
        from companion.connectors.base import SendBlocked, SendDisabled, SendError

        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _bad("body must be a JSON object")
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) \
                or not isinstance(body.get("channel"), str) or not body["text"].strip():
            return _bad("'channel' and a non-empty 'text' are required strings")
        reply_to = body.get("reply_to_id")
        used = body.get("used_memory_ids") or []
        if not isinstance(used, list) or not all(isinstance(m, (str, int)) for m in used) or len(used) > MAX_K:
            return _bad("'used_memory_ids' must be a list of ids")
        character = getattr(self.engine, "character", None)
        if character is not None and isinstance(reply_to, str) and not character.can_answer(reply_to):
            return _bad("that message was deleted by a moderator", 409)
        try:
            await asyncio.wait_for(self.engine.send_reply(body["channel"], body["text"],
                                                          reply_to if isinstance(reply_to, str) else None),
                                   timeout=35.0)
        except SendDisabled as exc:
            return _bad(str(exc), 409)
        except SendBlocked as exc:
            return _bad(str(exc), 403)
        except (SendError, asyncio.TimeoutError) as exc:
            return _bad(f"reply not sent: {exc or 'timed out'}", 503)
        ack = None
        if character is not None:
            ack = await asyncio.to_thread(character.acknowledge, [str(m) for m in used],
                                          reply_to if isinstance(reply_to, str) else None)
        return _json({"sent": True, "memories": ack})

    async def recommendations_ws(self, request: web.Request) -> web.WebSocketResponse:
        """Every new recommendation as one JSON message; a slow reader skips the oldest."""
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
        await ws.prepare(request)
        sub = self.engine.bus.subscribe("recommendations", maxsize=16)
        self._rec_sockets.add(ws)

        async def forward() -> None:
            async for item in sub:
                await ws.send_str(json.dumps(item if isinstance(item, dict) else item.to_dict(), default=str))

        sender = asyncio.create_task(forward())
        try:
            async for _ in ws:
                pass
        finally:
            self._rec_sockets.discard(ws)
            sender.cancel()
            sub.close()
        return ws
