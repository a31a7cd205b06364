"""The engine drives VTube Studio: expression -> hotkey and injected parameters, persisted token,
reconnect; against the local fake VTS server, and wired through the real engine (--vts)."""
from __future__ import annotations

import asyncio

from companion.character import CharacterConfig, CharacterEngine
from companion.character.avatar import AvatarConfig, AvatarDriver
from pipelines.bus import Bus
from tests.character_stack import running_engine, until
from tests.vts_fake_server import FakeVTS


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_driver_hotkeys_parameters_token_and_reconnect(tmp_path):
    vts = await FakeVTS().start()
    bus, clock = Bus(), Clock()
    ch = CharacterEngine(tmp_path, bus=bus, clock=clock)
    cfg = AvatarConfig(hotkeys={"joy": "Joy", "anger": "Angry face"},
                       parameters={"joy": {"MouthSmile": 1.0}}, retry_s=0.1, inject_every_s=0.1)
    driver = AvatarDriver(vts.url, bus, tmp_path / "vts_token.json", cfg)
    await driver.start()
    try:
        await asyncio.wait_for(driver.connected.wait(), 5)
        clock.t += 10  # past the neutral face's minimum dwell
        ch.update_emotion("joy", 1.0, save=False)
        await until(lambda: "hk-joy" in vts.triggered, 5, "joy hotkey")
        await until(lambda: {"MouthSmile": 1.0} in vts.injected, 5, "joy parameters injected")
        n = len(vts.injected)
        await until(lambda: len(vts.injected) >= n + 2, 5, "parameters re-sent while joy lasts")
        assert (tmp_path / "vts_token.json").exists()

        # VTube Studio restarts: the driver reconnects with the saved token and re-shows the face
        await vts.stop()
        await until(lambda: not driver.connected.is_set(), 5, "disconnect noticed")
        vts.requests.clear()
        vts.triggered.clear()
        await vts.start()
        await asyncio.wait_for(driver.connected.wait(), 10)
        kinds = [r["messageType"] for r in vts.requests]
        assert "AuthenticationTokenRequest" not in kinds and "AuthenticationRequest" in kinds
        await until(lambda: "hk-joy" in vts.triggered, 5, "expression re-shown after reconnect")
        assert driver.stats["connects"] == 2

        clock.t += 30  # past the expression's minimum dwell
        ch.update_emotion("anger", 1.0, cortisol=0.95, dopamine=0.2, mode="set", save=False)
        await until(lambda: "hk-anger" in vts.triggered, 5, "anger hotkey")
    finally:
        await driver.stop()
        await vts.stop()


async def test_engine_drives_vts_with_the_vts_flag(tmp_path):
    vts = await FakeVTS().start()
    try:
        async with running_engine(tmp_path, analytics=False, memory=False, vts=vts.url) as (engine, _):
            avatar = engine.attachments.avatar
            await asyncio.wait_for(avatar.connected.wait(), 10)
            engine.character.update_emotion("joy", 1.0)
            await until(lambda: "hk-joy" in vts.triggered, 10, "the live engine's joy on the avatar")
            assert (tmp_path / "character" / "vts_token.json").exists()
    finally:
        await vts.stop()
