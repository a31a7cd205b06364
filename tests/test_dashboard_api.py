"""The dashboard's HTTP/WebSocket API against a real aiohttp server on loopback."""
import asyncio
import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from companion.analytics import Analytics
from companion.analytics.synthetic import make_event, steady_stream
from companion.recommendation import MessagePick, Recommendation
from dashboards import DashboardServer, InsecureBindError
from dashboards.live import Client
from pipelines.bus import Bus


@dataclass
class FakeHit:
    text: str
    score: float
    parts: dict = field(default_factory=dict)

    def to_dict(self):
        return {"text": self.text, "score": self.score, "parts": self.parts}


class FakeMemory:
    def __init__(self):
        self.forgotten = []
        self.searches = []

    def viewer_view(self, viewer_id):
        if viewer_id in self.forgotten:
            return {}
        return {"viewer_id": viewer_id, "profile": {"relationship": "regular", "messages": 12},
                "memories": [{"id": 1, "text": "likes cozy games", "tier": "long_term", "score": 0.8,
                              "retention": 0.9, "importance": 0.6, "access": 1}],
                "neighbours": [{"label": "cozy games", "relation": "likes", "weight": 0.9}],
                "graph": {"neighbours": [{"label": "cozy games", "relation": "likes", "weight": 0.9}]}}

    def viewer_episodes(self, viewer_id, limit=10):
        return []

    def search(self, q, viewer=None, channel=None, tier=None, since=None, until=None, k=10, reinforce=True):
        self.searches.append((q, viewer, k, reinforce))
        return [FakeHit(f"memory about {q}", 0.7, {"relevance": 0.6, "recency": 0.1})][:k]

    def forget_viewer(self, viewer_id):
        self.forgotten.append(viewer_id)
        return 3

    def memory(self, mem_id):
        return None  # the inspector's extra columns are optional; the real store is tested elsewhere


class FakeCharacter:
    def __init__(self):
        self.queue = []

    def next_recommendation(self):
        return self.queue.pop(0) if self.queue else None

    def mood_state(self):
        return {"valence": 0.4, "arousal": 0.6, "label": "cheerful"}

    def forget_viewer(self, viewer_id):
        return {"candidates": 1, "viewers": 1, "recommendations": 0}

    def can_answer(self, message_id):
        return True

    def acknowledge(self, used_memory_ids, message_id=None):
        return {"reinforced": 0, "ignored": list(used_memory_ids)}


class FakeEngine:
    """What DashboardServer needs from companion.engine.Engine, with a real bus, analytics and registry."""

    def __init__(self, data_dir, memory=True, character=True):
        self.bus = Bus()
        registry = CollectorRegistry()
        self.messages_total = Counter("companion_messages", "messages processed", registry=registry)
        self.metrics = SimpleNamespace(registry=registry)
        self.analytics = Analytics(data_dir, bus=self.bus)
        self.memory = FakeMemory() if memory else None
        self.character = FakeCharacter() if character else None
        self.submitted = []

    def state(self):
        return {"messages": int(self.messages_total._value.get()), "queue_depth": 0, "sources": ["fake"]}

    async def submit(self, messages):
        self.submitted.extend(messages)

    async def feed(self, events):
        """What the runtime does after the last stage: analytics, then publish each record."""
        await self.analytics.stage.process(events)
        for ev in events:
            self.messages_total.inc()
            self.bus.publish("records", ev.record.to_dict())


@pytest.fixture
async def served(tmp_path):
    engine = FakeEngine(tmp_path)
    server = DashboardServer(engine, port=0, push_interval_s=0.2)
    await server.start()
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{server.port}") as http:
        yield engine, server, http
    await server.stop()
    engine.analytics.close()


async def test_health_state_and_metrics(served):
    engine, server, http = served
    assert server.port > 0
    r = await http.get("/healthz")
    assert r.status == 200 and (await r.json())["status"] == "ok"
    await engine.feed(list(steady_stream(time.time() - 30, 30, 1.0)))
    r = await http.get("/api/state")
    state = await r.json()
    assert r.status == 200 and state["messages"] == 30
    assert state["analytics"]["channels"]["demo"]["windows"]["1m"]["messages"] == 30
    assert state["analytics"]["channels"]["demo"]["forecast"]["rate"]["status"] == "insufficient_history"
    r = await http.get("/metrics")
    text = await r.text()
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert "companion_messages_total 30.0" in text


async def test_page_and_vendored_chart_library_are_served(served):
    _, _, http = served
    r = await http.get("/")
    html = await r.text()
    assert r.status == 200 and "/static/vendor/uPlot.iife.min.js" in html and "/static/app.js" in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    r = await http.get("/static/vendor/uPlot.iife.min.js")
    assert r.status == 200 and "uPlot" in await r.text()
    assert (await http.get("/static/app.js")).status == 200


async def test_ws_sends_snapshot_then_deltas_with_records(served):
    engine, _, http = served
    await engine.feed([make_event(time.time(), "early", "hello before connecting")])
    async with http.ws_connect("/ws") as ws:
        first = json.loads((await ws.receive(timeout=5)).data)
        assert first["type"] == "snapshot" and first["records"][0]["text"] == "hello before connecting"
        assert first["mood"]["valence"] == 0.4 and first["analytics"]["channels"]["demo"]
        await engine.feed([make_event(time.time(), "bob", "<b>live</b> message")])
        for _ in range(20):
            msg = json.loads((await ws.receive(timeout=5)).data)
            if msg["records"]:
                break
        assert msg["type"] == "delta" and msg["records"][0]["text"] == "<b>live</b> message"
        assert msg["analytics"]["channels"]["demo"]["windows"]["10s"]["messages"] >= 1


async def test_ten_dashboards_at_once(served):
    engine, server, http = served
    sockets = [await http.ws_connect("/ws") for _ in range(10)]
    try:
        for ws in sockets:
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "snapshot"
        await engine.feed([make_event(time.time(), "carol", "everyone sees this")])
        for ws in sockets:
            while True:
                msg = json.loads((await ws.receive(timeout=5)).data)
                if msg["records"]:
                    assert msg["records"][0]["text"] == "everyone sees this"
                    break
        assert (await (await http.get("/healthz")).json())["dashboard_clients"] == 10
    finally:
        for ws in sockets:
            await ws.close()


def test_slow_client_gets_latest_state_not_a_backlog():
    client = Client(ws=SimpleNamespace(closed=False))
    for i in range(500):
        client.offer({"type": "delta", "seq": i, "records": [{"id": str(i)}], "alerts": [], "recommendations": [],
                      "mood": None, "analytics": {"seq": i}, "full": False})
    assert client.pending["seq"] == 499 and client.pending["analytics"] == {"seq": 499}
    assert len(client.pending["records"]) == 100 and client.pending["records"][-1]["id"] == "499"
    assert client.merged == 499


async def test_recommendations_http_and_ws(served):
    engine, _, http = served
    r = await http.get("/api/recommendations/next")
    assert r.status == 204
    rec = Recommendation(id="r1", channel="demo", tone="playful",
                         picks=[MessagePick("m1", "demo", "alice", "what game next?", 0.9)])
    engine.character.queue.append(rec)
    r = await http.get("/api/recommendations/next")
    assert r.status == 200 and (await r.json())["picks"][0]["text"] == "what game next?"
    async with http.ws_connect("/ws/recommendations") as ws:
        for _ in range(50):  # the subscription is created once the handshake completes
            if engine.bus.subscriber_count("recommendations") >= 2:
                break
            await asyncio.sleep(0.02)
        engine.bus.publish("recommendations", rec.to_dict())
        got = json.loads((await ws.receive(timeout=5)).data)
        assert got["id"] == "r1" and got["tone"] == "playful"


async def test_viewer_profile_search_and_forget(served):
    engine, _, http = served
    await engine.feed([make_event(time.time(), "alice", "hi there everyone")])
    r = await http.get("/api/viewers/twitch:alice")
    view = await r.json()
    assert r.status == 200 and view["memories"][0]["text"] == "likes cozy games"
    assert view["engagement"]["demo"]["messages"] == 1 and view["neighbours"]
    r = await http.get("/api/memories/search", params={"q": "games", "viewer": "twitch:alice", "k": "5"})
    assert r.status == 200 and (await r.json())["results"][0]["text"] == "memory about games"
    assert engine.memory.searches == [("games", "twitch:alice", 5, False)]  # browsing never reinforces
    assert (await http.get("/api/memories/search", params={"q": ""})).status == 400
    assert (await http.get("/api/memories/search", params={"q": "x", "k": "0"})).status == 400
    assert (await http.get("/api/memories/search", params={"q": "x", "k": "many"})).status == 400
    r = await http.delete("/api/viewers/twitch:alice")
    body = await r.json()
    assert r.status == 200 and body["forgotten"] == {
        "memory": 3, "analytics": True, "character": {"candidates": 1, "viewers": 1, "recommendations": 0}}
    assert engine.memory.forgotten == ["twitch:alice"]
    assert (await http.get("/api/viewers/twitch:alice")).status == 404


async def test_without_memory_search_is_503(tmp_path):
    engine = FakeEngine(tmp_path, memory=False, character=False)
    server = DashboardServer(engine, port=0)
    await server.start()
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{server.port}") as http:
            assert (await http.get("/api/memories/search", params={"q": "x"})).status == 503
            assert (await http.get("/api/recommendations/next")).status == 204
            assert (await http.get("/api/viewers/twitch:nobody")).status == 404
    finally:
        await server.stop()


def test_non_loopback_bind_without_token_refuses(tmp_path):
    engine = FakeEngine(tmp_path)
    with pytest.raises(InsecureBindError, match="COMPANION_API_TOKEN"):
        DashboardServer(engine, host="0.0.0.0", port=0)
    with pytest.raises(InsecureBindError):
        DashboardServer(engine, host="192.0.2.10", port=0, api_token="")
    DashboardServer(engine, host="localhost", port=0)  # loopback needs no token


async def test_token_enforced_on_non_loopback_bind(tmp_path):
    engine = FakeEngine(tmp_path)
    server = DashboardServer(engine, host="0.0.0.0", port=0, api_token="s3cret")
    await server.start()
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{server.port}") as http:
            for path in ("/api/state", "/metrics", "/api/recommendations/next", "/api/viewers/x",
                         "/api/memories/search?q=x"):
                assert (await http.get(path)).status == 401, path
                assert (await http.get(path, headers={"Authorization": "Bearer wrong"})).status == 401, path
            assert (await http.delete("/api/viewers/x")).status == 401
            assert engine.memory.forgotten == []
            assert (await http.get("/api/state?token=s3cret")).status == 401  # query tokens only for WebSockets
            ok = await http.get("/api/state", headers={"Authorization": "Bearer s3cret"})
            assert ok.status == 200
            assert (await http.get("/metrics", headers={"Authorization": "Bearer s3cret"})).status == 200
            assert (await http.get("/healthz")).status == 200 and (await http.get("/")).status == 200
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await http.ws_connect("/ws")
            assert err.value.status == 401
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await http.ws_connect("/ws/recommendations?token=nope")
            async with http.ws_connect("/ws?token=s3cret") as ws:
                assert json.loads((await ws.receive(timeout=5)).data)["type"] == "snapshot"
            async with http.ws_connect("/ws", headers={"Authorization": "Bearer s3cret"}) as ws:
                assert json.loads((await ws.receive(timeout=5)).data)["type"] == "snapshot"
    finally:
        await server.stop()
