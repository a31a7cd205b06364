"""Replies back to chat: off without --reply, toxicity-checked, sent through a connector."""
from __future__ import annotations

from pathlib import Path

import pytest

from companion.connectors.base import SendBlocked, SendDisabled
from companion.engine import Engine, EngineConfig


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None]] = []

    async def send(self, channel: str, text: str, *, guard=None, reply_to_id=None) -> None:
        self.sent.append((channel, text, reply_to_id))


def _engine(tmp_path: Path, reply: bool) -> Engine:
    cfg = EngineConfig(data_dir=tmp_path, dashboard=False, memory=False, analytics=False,
                       character=False, reply=reply)
    return Engine(cfg)


async def test_reply_is_checked_and_sent(tmp_path: Path) -> None:
    engine = _engine(tmp_path, reply=True)
    sender = FakeSender()
    engine.sources = [("fake", sender)]
    await engine.send_reply("#aiko_live", "Thanks for the raid, welcome everyone!", "m1")
    assert sender.sent == [("#aiko_live", "Thanks for the raid, welcome everyone!", "m1")]
    with pytest.raises(SendBlocked):
        await engine.send_reply("#aiko_live", "you're a worthless idiot, nobody wants you here")
    assert len(sender.sent) == 1


async def test_replies_off_without_flag(tmp_path: Path) -> None:
    engine = _engine(tmp_path, reply=False)
    sender = FakeSender()
    engine.sources = [("fake", sender)]
    with pytest.raises(SendDisabled):
        await engine.send_reply("#c", "hello")
    assert sender.sent == []
