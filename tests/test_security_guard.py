"""Issue 13, security on the default loopback bind (no token), against the real engine and its
dashboard server on loopback: Host allow-list (DNS rebinding), Origin on every WebSocket and
state-changing request, JSON-only POST bodies, 4xx for hostile bodies and queries, the query-string
token only on WebSockets, and the Twitch client refusing cleartext ws:// with a token."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from companion.connectors.twitch_irc import TwitchConfig
from companion.engine import Engine, EngineConfig
from pipelines.noop_analyzer import NoopAnalyzer


@pytest.fixture
async def live(tmp_path: Path):
    engine = Engine(EngineConfig(data_dir=tmp_path, port=0), analyzer=NoopAnalyzer())
    task = asyncio.create_task(engine.run([], serve=True, install_signals=False))
    for _ in range(500):
        if engine.dashboard is not None and engine.dashboard.port:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    base = f"http://127.0.0.1:{engine.dashboard.port}"
    async with aiohttp.ClientSession() as session:
        yield engine, base, session
    engine.stop()
    await asyncio.wait_for(task, 30)


MSG = {"messages": [{"text": "hello from somewhere", "user": "ann"}]}


async def test_rebinding_host_is_refused_before_any_route(live) -> None:
    engine, base, s = live
    for path in ("/api/state", "/api/viewers/twitch:ann", "/metrics", "/"):
        async with s.get(base + path, headers={"Host": "evil.example:8765"}) as r:
            assert r.status == 421, path
    async with s.delete(base + "/api/viewers/twitch:ann", headers={"Host": "attacker.test"}) as r:
        assert r.status == 421
    for host in ("127.0.0.1", "localhost:1234", "[::1]:9"):
        async with s.get(base + "/healthz", headers={"Host": host}) as r:
            assert r.status == 200, host


async def test_cross_origin_post_delete_and_websocket_are_refused(live) -> None:
    engine, base, s = live
    evil = {"Origin": "http://127.0.0.1:9999"}
    async with s.post(base + "/api/messages", json=MSG, headers=evil) as r:
        assert r.status == 403
    async with s.post(base + "/api/replies", json={"channel": "c", "text": "hi"}, headers=evil) as r:
        assert r.status == 403
    async with s.delete(base + "/api/viewers/twitch:ann", headers=evil) as r:
        assert r.status == 403
    async with s.post(base + "/api/messages", json=MSG, headers={"Origin": "null"}) as r:
        assert r.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await s.ws_connect(base + "/ws", headers=evil)
    assert exc.value.status == 403
    assert engine.runtime.accepted == 0
    own = {"Origin": base}
    async with s.post(base + "/api/messages", json=MSG, headers=own) as r:
        assert r.status == 200
    ws = await s.ws_connect(base + "/ws", headers=own)
    first = await asyncio.wait_for(ws.receive(), 10)
    assert json.loads(first.data)
    await ws.close()


async def test_every_post_needs_json(live) -> None:
    engine, base, s = live
    for path in ("/api/messages", "/api/replies"):
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            async with s.post(base + path, data=json.dumps(MSG), headers={"Content-Type": ctype}) as r:
                assert r.status == 415, (path, ctype)
    assert engine.runtime.accepted == 0


async def test_hostile_bodies_and_queries_are_4xx(live) -> None:
    engine, base, s = live
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/messages", "/api/replies"):
        async with s.post(base + path, data=deep, headers={"Content-Type": "application/json"}) as r:
            assert 400 <= r.status < 500, path
    huge = '{"channel": "c", "text": "x", "n": ' + "9" * 5000 + "}"
    async with s.post(base + "/api/replies", data=huge, headers={"Content-Type": "application/json"}) as r:
        assert 400 <= r.status < 500
    async with s.get(base + "/api/memories/search", params={"q": "cats", "tier": "bogus"}) as r:
        assert r.status == 400
    async with s.get(base + "/api/memories/search", params={"q": "cats", "since": "nan"}) as r:
        assert r.status == 400


async def test_query_token_only_for_websockets(tmp_path: Path) -> None:
    from dashboards import DashboardServer

    engine = Engine(EngineConfig(data_dir=tmp_path, dashboard=False, memory=False, character=False,
                                 analytics=False), analyzer=NoopAnalyzer())
    server = DashboardServer(engine, port=0, api_token="t0ken")
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(base + "/api/state", params={"token": "t0ken"}) as r:
                assert r.status == 401
            async with s.get(base + "/metrics", headers={"Authorization": "Bearer t0ken"}) as r:
                assert r.status == 200
            ws = await s.ws_connect(base + "/ws?token=t0ken")
            await ws.close()
    finally:
        await server.stop()


def test_twitch_refuses_cleartext_with_a_token() -> None:
    env = {"TWITCH_OAUTH_TOKEN": "s3cret", "TWITCH_NICK": "bot"}
    with pytest.raises(ValueError, match="cleartext"):
        TwitchConfig.from_env(["chan"], env={**env, "TWITCH_IRC_URL": "ws://irc.example.com:80"})
    for ok in ("ws://127.0.0.1:1234", "ws://localhost:9", "wss://irc-ws.chat.twitch.tv:443"):
        assert TwitchConfig.from_env(["chan"], env={**env, "TWITCH_IRC_URL": ok}).url == ok
    anonymous = TwitchConfig.from_env(["chan"], env={"TWITCH_IRC_URL": "ws://irc.example.com"})
    assert anonymous.anonymous  # read-only without a token: nothing to leak
