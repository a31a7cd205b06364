"""VTube Studio handshake and expression hotkeys against a local fake server."""
from __future__ import annotations

import asyncio

import pytest

from companion.character import CharacterEngine
from companion.character.vtube_studio import VTSError, VTubeStudioClient
from pipelines.bus import Bus
from tests.vts_fake_server import FakeVTS


@pytest.fixture
async def vts():
    server = await FakeVTS().start()
    yield server
    await server.stop()


async def test_handshake_caches_token_and_triggers(vts, tmp_path):
    token_path = tmp_path / "vts_token.json"
    async with VTubeStudioClient(vts.url, token_path=token_path) as c:
        assert await c.authenticate()
        kinds = [r["messageType"] for r in vts.requests]
        assert kinds == ["AuthenticationTokenRequest", "AuthenticationRequest"]
        assert all(r["apiName"] == "VTubeStudioPublicAPI" and r["apiVersion"] == "1.0" and r["requestID"]
                   for r in vts.requests)
        hks = await c.hotkeys()
        assert {h["hotkeyID"] for h in hks} == {"hk-joy", "hk-anger", "hk-wave"}
        assert await c.show_expression("joy") == "hk-joy"
        assert await c.show_expression("joy") is None  # unchanged: no re-trigger
        assert await c.show_expression("anger") == "hk-anger"
        assert await c.show_expression("neutral") is None
    assert vts.triggered == ["hk-joy", "hk-joy", "hk-anger", "hk-anger"]  # toggles switched off again
    assert token_path.exists()
    vts.requests.clear()
    async with VTubeStudioClient(vts.url, token_path=token_path) as c:
        assert await c.authenticate()
    assert [r["messageType"] for r in vts.requests] == ["AuthenticationRequest"]  # cached token reused


async def test_stale_token_renewed_and_denial_raises(vts, tmp_path):
    token_path = tmp_path / "t.json"
    token_path.write_text('{"token": "revoked"}')
    async with VTubeStudioClient(vts.url, token_path=token_path) as c:
        assert await c.authenticate()
    assert [r["messageType"] for r in vts.requests] == [
        "AuthenticationRequest", "AuthenticationTokenRequest", "AuthenticationRequest"]
    vts.grant = False
    async with VTubeStudioClient(vts.url, token_path=tmp_path / "none.json") as c:
        with pytest.raises(VTSError) as err:
            await c.authenticate()
        assert err.value.error_id == 50


async def test_unauthenticated_requests_error(vts):
    async with VTubeStudioClient(vts.url) as c:
        with pytest.raises(VTSError) as err:
            await c.hotkeys()
        assert err.value.error_id == 8


async def test_explicit_mapping_and_follow_mood_bus(vts, tmp_path):
    bus = Bus()
    ch = CharacterEngine(tmp_path, bus=bus)
    moods = bus.subscribe("mood")
    async with VTubeStudioClient(vts.url, expression_hotkeys={"smirk": "Wave"}) as c:
        assert await c.authenticate()
        follower = asyncio.create_task(c.follow(moods))
        ch.update_emotion(dopamine=0.55, serotonin=0.8, cortisol=0.15, oxytocin=0.4, mode="set")
        ch.expression.since -= 100  # let the hysteresis dwell pass
        bus.publish("mood", ch.mood_state())
        for _ in range(100):
            if vts.triggered:
                break
            await asyncio.sleep(0.02)
        follower.cancel()
    assert ch.mood_state()["expression"] == "smirk"
    assert vts.triggered == ["hk-wave"]
