"""POST /api/messages: validation, limits and auth, on a loopback aiohttp server."""
import json
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from companion.connectors.webhook import parse_batch, register_routes
from companion.messages import ChatMessage, MessageKind


@dataclass
class FakeConfig:
    api_token: str | None = None


@dataclass
class FakeEngine:
    config: FakeConfig = field(default_factory=FakeConfig)
    batches: list[list[ChatMessage]] = field(default_factory=list)
    fail: bool = False

    async def submit(self, messages: list[ChatMessage]) -> None:
        if self.fail:
            raise RuntimeError("ingest queue full")
        self.batches.append(messages)


async def make_client(engine: FakeEngine, **kw) -> TestClient:
    app = web.Application()
    register_routes(app, engine, clock=lambda: 1234.5, **kw)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    return client


@pytest.fixture
async def open_api():
    engine = FakeEngine()
    client = await make_client(engine, max_bytes=4096, max_messages=3)
    yield engine, client
    await client.close()


async def test_accepts_batch_and_normalises(open_api):
    engine, client = open_api
    body = {
        "messages": [
            {"text": "hi\u202e there\n", "platform": "youtube", "channel": "live", "user": "ann", "id": "yt-1",
             "ts": "2024-06-01T12:00:00Z", "kind": "raid", "tags": {"viewers": 12}, "emotes": [[0, 1, "hi"]]},
            {"text": "x" * 700},
        ]
    }
    resp = await client.post("/api/messages", json=body)
    assert resp.status == 200 and await resp.json() == {"accepted": 2}
    (batch,) = engine.batches
    first, second = batch
    assert isinstance(first, ChatMessage)
    assert first.text == "hi there" and first.platform == "youtube" and first.channel == "live"
    assert first.id == "yt-1" and first.kind == MessageKind.RAID and first.ts == 1717243200.0
    assert first.tags == {"viewers": 12} and first.emotes == [(0, 1, "hi")]
    assert second.truncated and len(second.text) == 500 and second.ts == 1234.5
    assert second.platform == "webhook" and second.user == "anonymous"


async def test_bare_array_accepted(open_api):
    engine, client = open_api
    resp = await client.post("/api/messages", json=[{"text": "one"}, {"text": "two", "ts": 99}])
    assert resp.status == 200 and await resp.json() == {"accepted": 2}
    assert [m.ts for m in engine.batches[0]] == [1234.5, 99.0]


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"messages": [{"user": "no text"}]}, "messages.0.text"),
        ({"messages": [{"text": "ok"}, {"text": ""}]}, "messages.1.text"),
        ({"messages": [{"text": " \u200b\u200e "}]}, "messages.0.text"),
        ({"messages": [{"text": "ok", "kind": "nonsense"}]}, "messages.0.kind"),
        ({"messages": [{"text": "ok", "ts": "yesterday-ish"}]}, "messages.0.ts"),
        ({"messages": [{"text": "ok", "platform": "bad platform!"}]}, "messages.0.platform"),
        ({"messages": [{"text": "ok", "colour": "red"}]}, "messages.0.colour"),
        ({"messages": [{"text": "ok", "emotes": [[5, 2, "x"]]}]}, "messages.0.emotes"),
        ({"messages": []}, "messages"),
        ({"msgs": [{"text": "ok"}]}, "messages"),
    ],
)
async def test_field_errors_are_400(open_api, body, loc):
    engine, client = open_api
    resp = await client.post("/api/messages", json=body)
    assert resp.status == 400
    data = await resp.json()
    assert data["error"] == "validation failed"
    assert any(f["loc"] == loc or f["loc"].startswith(loc + ".") for f in data["fields"])
    assert all(set(f) == {"loc", "msg", "type"} for f in data["fields"])  # no echo of the input
    assert engine.batches == []


async def test_invalid_json_is_400(open_api):
    engine, client = open_api
    resp = await client.post("/api/messages", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status == 400 and "JSON" in (await resp.json())["error"]
    resp = await client.post("/api/messages", data=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert engine.batches == []


async def test_oversized_is_413(open_api):
    engine, client = open_api
    resp = await client.post("/api/messages", json={"messages": [{"text": "a" * 5000}]})
    assert resp.status == 413

    async def chunks():  # no Content-Length: the limit must hold while streaming too
        for _ in range(10):
            yield b" " * 1000

    resp = await client.post("/api/messages", data=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status == 413
    resp = await client.post("/api/messages", json=[{"text": "m"}] * 4)  # over max_messages=3
    assert resp.status == 413
    assert engine.batches == []


async def test_engine_refusal_is_503():
    engine = FakeEngine(fail=True)
    client = await make_client(engine)
    try:
        resp = await client.post("/api/messages", json=[{"text": "hi"}])
        assert resp.status == 503 and resp.headers["Retry-After"] == "1"
    finally:
        await client.close()


async def test_bearer_token_enforced():
    engine = FakeEngine(config=FakeConfig(api_token="t0ps3cret"))
    client = await make_client(engine)
    try:
        body = [{"text": "hi"}]
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic t0ps3cret"},
                        {"Authorization": "t0ps3cret"}):
            resp = await client.post("/api/messages", json=body, headers=headers)
            assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
        assert engine.batches == []
        resp = await client.post("/api/messages", json=body, headers={"Authorization": "Bearer t0ps3cret"})
        assert resp.status == 200 and await resp.json() == {"accepted": 1}
    finally:
        await client.close()


def test_parse_batch_direct():
    (m,) = parse_batch({"messages": [{"text": "hello", "mentions": ["bob"], "bits": 100, "kind": "bits"}]})
    assert m.to_chat_message(now=1.0).bits == 100
    assert json.dumps(m.model_dump(mode="json"))  # serialisable for logging/debugging
