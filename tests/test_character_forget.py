"""Forgetting reaches the character engine: DELETE /api/viewers/{id}, CLEARMSG and CLEARCHAT
remove the viewer/message from its candidates, its state file and pending recommendations, on the
real stack (real analyser, memory store, engine and dashboard server)."""
from __future__ import annotations

import json
import time

import aiohttp

from companion.connectors.base import ModerationEvent, ModerationKind
from tests.character_stack import post_messages, running_engine, until

CH = "#aiko_live"


def _msg(user: str, text: str, mid: str, **kw) -> dict:
    return {"platform": "twitch", "channel": CH, "user": user, "text": text, "id": mid, "ts": time.time(), **kw}


def _everywhere(engine, needle: str) -> list[str]:
    """Where ``needle`` (a login or message id) still appears in the character engine."""
    ch = engine.character
    where = []
    for name, pools in (("pool", ch._pool), ("recent", ch._recent)):
        for dq in pools.values():
            if any(needle in (c.message.user, c.message.id) for c in dq):
                where.append(name)
    if any(needle == v.user for v in ch.viewers.values()):
        where.append("viewers")
    for rec in ch.recent_recommendations(100):
        if needle in json.dumps(rec.to_dict()):
            where.append(f"recommendation {rec.id}")
    ch.save()
    state = ch.state_path.read_text()
    blob = json.loads(state)
    if any(needle == v[0] for v in blob["viewers"].values()):
        where.append("state file viewers")
    if any(needle in json.dumps(r) for r in blob["recommendations"]):
        where.append("state file recommendations")
    return where


async def test_forget_viewer_clearmsg_clearchat_reach_the_character_engine(tmp_path):
    async with running_engine(tmp_path, analytics=False) as (engine, url):
        async with aiohttp.ClientSession() as http:
            await post_messages(http, url, [
                _msg("alice_w", "Aiko what is your favourite game? I love Celeste", "a1"),
                _msg("bob_q", "Aiko did you ever finish Hollow Knight?", "b1"),
                _msg("carol_z", "Aiko how do you stay so calm in boss fights?", "c1"),
                _msg("dave_k", "good evening Aiko, the stream looks great today", "d1"),
            ])
            ch = engine.character
            await until(lambda: all(_everywhere(engine, u) for u in ("alice_w", "bob_q", "carol_z")),
                        what="the character engine to see every viewer")
            assert any("recommendation" in w for w in _everywhere(engine, "alice_w") + _everywhere(engine, "bob_q"))

            async with http.delete(f"{url}/api/viewers/twitch:alice_w") as resp:
                body = await resp.json()
                assert resp.status == 200, body
            assert body["forgotten"]["character"]["viewers"] == 1
            assert _everywhere(engine, "alice_w") == []

            await engine.on_control(ModerationEvent(platform="twitch", channel=CH, kind=ModerationKind.CLEARMSG,
                                                    target_msg_id="b1"))
            assert _everywhere(engine, "b1") == []
            assert not ch.can_answer("b1")

            await engine.on_control(ModerationEvent(platform="twitch", channel=CH, kind=ModerationKind.CLEARCHAT,
                                                    target_user="carol_z", ts=time.time() + 5))
            assert _everywhere(engine, "carol_z") == []

            # In-flight copies are dropped too; others still get through.
            await post_messages(http, url, [_msg("carol_z", "Aiko one more question before the ban?", "c2",
                                                 ts=time.time()),
                                            _msg("erin_p", "Aiko what game is next week?", "e1")])
            await until(lambda: _everywhere(engine, "erin_p"), what="the next viewer")
            assert _everywhere(engine, "carol_z") == []
            assert "dave_k" in json.dumps([r.to_dict() for r in ch.recent_recommendations(100)]) or \
                _everywhere(engine, "dave_k")

            # A reply to the deleted message is refused.
            async with http.post(f"{url}/api/replies", data=json.dumps({"channel": CH, "text": "hi", "reply_to_id": "b1"}),
                                 headers={"Content-Type": "application/json"}) as resp:
                assert resp.status == 409
