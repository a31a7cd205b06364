"""The live push behind ``WS /ws``: collects bus topics and sends each client a compact delta
about once a second. A slow client gets merged, bounded deltas (latest state wins), never a
backlog, and nothing it does can slow the pipeline: the bus drops the oldest items for us."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

import orjson
from aiohttp import web

log = logging.getLogger(__name__)

RECENT_RECORDS = 150
CLIENT_RECORDS = 100
FULL_ANALYTICS_EVERY = 5  # ticks between full analytics (series, forecasts); windows go every tick


def compact_record(r: dict[str, Any]) -> dict[str, Any]:
    """The fields the page shows, from an ``AnalysisRecord.to_dict()``."""
    sent = r.get("sentiment") or {}
    tox = r.get("toxicity") or {}
    ek = r.get("ekman") or {}
    return {
        "id": r.get("id"), "ts": r.get("ts"), "platform": r.get("platform"), "channel": r.get("channel"),
        "user": r.get("user"), "user_id": r.get("user_id"), "text": r.get("text"), "kind": r.get("kind"),
        "sentiment": {"label": sent.get("label"), "score": sent.get("score")},
        "toxicity": {"flagged": bool(tox.get("flagged")), "label": tox.get("label"), "score": tox.get("score")},
        "emotion": ek.get("label"), "degraded": r.get("degraded", False),
    }


def overlay(full: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """A full analytics snapshot updated with the newer windows of a partial one."""
    out = {**full, "ts": part["ts"], "top_chatters": part["top_chatters"], "channels": dict(full["channels"])}
    for name, ch in part["channels"].items():
        out["channels"][name] = {**full["channels"].get(name, {}), **ch}
    return out


class Client:
    """One dashboard connection with a single pending (merged) delta."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.pending: dict[str, Any] | None = None
        self.ready = asyncio.Event()
        self.sent = 0
        self.merged = 0
        # Records already in the snapshot may also sit in the first delta; they are sent once.
        self.snapshot_ids: set | None = None

    def offer(self, delta: dict[str, Any]) -> None:
        """Queue ``delta``; if the previous one is still unsent, merge into it (bounded)."""
        if delta.get("type") == "snapshot":
            self.snapshot_ids = {r.get("id") for r in delta["records"]}
        elif self.snapshot_ids is not None:
            delta = {**delta, "records": [r for r in delta["records"] if r.get("id") not in self.snapshot_ids]}
            self.snapshot_ids = None
        if self.pending is None:
            self.pending = {**delta, "records": list(delta["records"]), "alerts": list(delta["alerts"]),
                            "recommendations": list(delta["recommendations"])}
        else:
            self.merged += 1
            old = self.pending
            merged = {**old, **{k: v for k, v in delta.items() if v is not None}}
            merged["records"] = (old["records"] + delta["records"])[-CLIENT_RECORDS:]
            merged["alerts"] = (old["alerts"] + delta["alerts"])[-50:]
            merged["recommendations"] = (old["recommendations"] + delta["recommendations"])[-10:]
            if old.get("full") and not delta.get("full") and old.get("analytics") and delta.get("analytics"):
                merged["analytics"] = overlay(old["analytics"], delta["analytics"])
                merged["full"] = True
            merged["type"] = old["type"]
            self.pending = merged
        self.ready.set()

    async def run(self) -> None:
        while not self.ws.closed:
            await self.ready.wait()
            self.ready.clear()
            delta, self.pending = self.pending, None
            if delta is None:
                continue
            await self.ws.send_str(_dumps(delta))
            self.sent += 1


def _dumps(obj: Any) -> str:
    """Standard JSON for the browser (non-finite floats become null), numpy included; orjson
    because a full state push is large and this runs on the loop."""
    return orjson.dumps(obj, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


class LiveFeed:
    """Fan-out of engine activity to every ``/ws`` client."""

    def __init__(self, engine: Any, interval_s: float = 1.0) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.clients: set[Client] = set()
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_RECORDS)
        self.alerts: deque[dict[str, Any]] = deque(maxlen=50)
        self.recommendations: deque[dict[str, Any]] = deque(maxlen=10)
        self.mood: dict[str, Any] | None = None
        self._new: dict[str, list] = {"records": [], "alerts": [], "recommendations": []}
        self._mood_changed = False
        self._tasks: list[asyncio.Task] = []
        self._subs: list = []
        self.seq = 0

    async def start(self) -> None:
        bus = self.engine.bus
        for topic, size in (("records", 2000), ("alerts", 200), ("recommendations", 50), ("mood", 10)):
            sub = bus.subscribe(topic, maxsize=size)
            self._subs.append(sub)
            self._tasks.append(asyncio.create_task(self._pump(sub), name=f"dashboard-{topic}"))
        self._tasks.append(asyncio.create_task(self._ticker(), name="dashboard-ticker"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        for sub in self._subs:
            sub.close()
        self._subs.clear()

    async def _pump(self, sub) -> None:
        async for item in sub:
            if sub.topic == "records":
                rec = compact_record(item if isinstance(item, dict) else item.to_dict())
                self.recent.append(rec)
                self._new["records"] = (self._new["records"] + [rec])[-CLIENT_RECORDS:]
            elif sub.topic == "alerts":
                self.alerts.append(item)
                self._new["alerts"].append(item)
            elif sub.topic == "recommendations":
                rec = item if isinstance(item, dict) else item.to_dict()
                self.recommendations.append(rec)
                self._new["recommendations"].append(rec)
            elif sub.topic == "mood":
                self.mood = item
                self._mood_changed = True

    def _analytics(self, full: bool) -> dict[str, Any] | None:
        an = getattr(self.engine, "analytics", None)
        if an is None:
            return None
        snap = an.snapshot()
        if full:
            return snap
        keep = ("now", "total_messages", "windows", "top_chatters")
        return {"ts": snap["ts"], "top_chatters": snap["top_chatters"],
                "channels": {n: {k: c[k] for k in keep} for n, c in snap["channels"].items()}}

    def _state(self) -> dict[str, Any] | None:
        """``engine.state()`` without the parts pushed on their own (analytics, recommendation)."""
        try:
            state = dict(self.engine.state())
        except Exception:  # the dashboard shows what it can; a state bug must not stop the push
            log.exception("engine.state() failed")
            return None
        for key in ("analytics", "recommendation"):
            state.pop(key, None)
        return state

    def _mood_now(self, refresh: bool = False) -> dict[str, Any] | None:
        """The companion's mood: the last one published on the bus, refreshed from the character
        engine when asked (its mood drifts between messages, not only on publishes)."""
        if (self.mood is None or refresh) and getattr(self.engine, "character", None) is not None:
            try:
                character = self.engine.character
                # Loop-safe: the snapshot never waits on the lock a batch holds.
                self.mood = getattr(character, "mood_snapshot", character.mood_state)()
            except Exception:
                log.exception("character.mood_snapshot() failed")
        return self.mood

    def _recommendations_now(self) -> list[dict[str, Any]]:
        if not self.recommendations and getattr(self.engine, "character", None) is not None:
            try:
                character = self.engine.character
                rec = getattr(character, "recommendation_snapshot", character.next_recommendation)()
            except Exception:
                log.exception("character.recommendation_snapshot() failed")
                rec = None
            if rec is not None:
                self.recommendations.append(rec.to_dict() if hasattr(rec, "to_dict") else rec)
        return list(self.recommendations)

    def snapshot(self) -> dict[str, Any]:
        """The first message a client gets: everything, so it can draw at once."""
        return {"type": "snapshot", "ts": time.time(), "seq": self.seq, "records": list(self.recent),
                "alerts": list(self.alerts), "recommendations": self._recommendations_now(),
                "mood": self._mood_now(refresh=True), "analytics": self._analytics(full=True), "state": self._state(),
                "full": True}

    def _take_new(self) -> tuple[dict[str, list], bool]:
        """What arrived since the last push, and whether the mood changed; both reset."""
        new, self._new = self._new, {"records": [], "alerts": [], "recommendations": []}
        changed, self._mood_changed = self._mood_changed, False
        return new, changed

    def build_delta(self) -> dict[str, Any]:
        """The next push: what arrived since the last one plus analytics, the mood when it
        changed and, every ``FULL_ANALYTICS_EVERY`` pushes, the full state."""
        new, mood_changed = self._take_new()
        self.seq += 1
        full = self.seq % FULL_ANALYTICS_EVERY == 0
        return {"type": "delta", "ts": time.time(), "seq": self.seq, "records": new["records"],
                "alerts": new["alerts"], "recommendations": new["recommendations"],
                "mood": self._mood_now(refresh=full) if mood_changed or full else None,
                "analytics": self._analytics(full), "full": full, "state": self._state() if full else None}

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if not self.clients:
                self._take_new()
                continue
            try:
                delta = self.build_delta()
            except Exception:
                log.exception("building the dashboard delta failed")
                continue
            for client in list(self.clients):
                client.offer(delta)

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        """Handle one ``/ws`` connection until it closes."""
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
        await ws.prepare(request)
        client = Client(ws)
        client.offer({**self.snapshot()})
        self.clients.add(client)
        sender = asyncio.create_task(client.run())
        try:
            async for _ in ws:  # the page sends nothing we act on; reading detects the close
                pass
        finally:
            self.clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                await sender
        return ws
