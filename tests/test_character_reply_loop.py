"""The LLM reply loop end to end on the real engine (real analyser, memory store, character
engine, output moderation, dashboard) against a fake OpenAI-compatible server on loopback."""
from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from companion.character.reply_loop import used_memories
from companion.connectors.base import ModerationEvent, ModerationKind
from companion.messages import ChatMessage
from tests.character_stack import ChatSink, post_messages, real_analyzer, running_engine, until
from tests.llm_fake_server import FakeLLM

CH = "#aiko_live"
TOXIC_REPLY = "go die, nobody likes you, you stupid worthless idiot"


def _msg(user: str, text: str, mid: str) -> dict:
    return {"platform": "twitch", "channel": CH, "user": user, "text": text, "id": mid, "ts": time.time()}


def _outcomes(engine) -> list[dict]:
    return [o.to_dict() for o in engine.attachments.reply_loop.outcomes]


def _char_config(tmp_path, **reply) -> None:
    d = tmp_path / "character"
    d.mkdir(parents=True, exist_ok=True)
    (d / "character.json").write_text(json.dumps({"reply": reply}))


def test_memory_tags_are_stripped_and_only_offered_ids_count():
    text, used = used_memories("Miso is the best [mem:12] and [mem:99] [mem:12] cat", {"12", "7"})
    assert text == "Miso is the best and cat" and used == ["12"]


async def test_reply_loop_streams_moderates_throttles_and_reinforces(tmp_path):
    llm = await FakeLLM("Miso sounds adorable, give her a scratch from me! [mem:{mem}]").start()
    chat = ChatSink()
    _char_config(tmp_path, min_interval_s=0.0, viewer_cooldown_s=3600.0)
    try:
        async with running_engine(tmp_path, sources=[("chat", chat)], analytics=False, reply=True,
                                  llm=f"openai:{llm.url},model=fake") as (engine, url):
            loop = engine.attachments.reply_loop
            async with aiohttp.ClientSession() as http:
                # SSE stream of the reply loop, read in the background
                events: list[dict] = []

                async def read_sse() -> None:
                    async with http.get(f"{url}/api/replies/stream") as resp:
                        async for line in resp.content:
                            if line.startswith(b"data:"):
                                events.append(json.loads(line[5:]))
                reader = asyncio.create_task(read_sse())

                # alice told the stream about her cat last week (straight into the real store)
                fact = real_analyzer().analyze_messages([ChatMessage(
                    text="my cat is called Miso and she is fluffy", platform="twitch", channel=CH,
                    user="alice_w", ts=time.time() - 7 * 86400)])
                await asyncio.to_thread(engine.memory.remember, fact)
                await post_messages(http, url, [_msg("alice_w", "Aiko how is Miso doing today?", "a1")])
                await until(lambda: any(o["status"] == "sent" for o in _outcomes(engine)), what="a sent reply")
                sent = next(o for o in _outcomes(engine) if o["status"] == "sent")
                assert sent["message_id"] == "a1"
                assert chat.sent and chat.sent[-1][2] == "a1" and "[mem:" not in chat.sent[-1][1]
                assert chat.sent[-1][1].startswith("Miso sounds adorable")
                # the request: persona + mood + tone, untrusted chat, sampling from the mood
                body = llm.requests[-1]
                system, user = body["messages"][0]["content"], body["messages"][1]["content"]
                assert "You are Aiko" in system and "Tone for this reply" in system and "[mem:ID]" in system
                assert "<untrusted_chat>" in user and "how is Miso doing" in user
                rec = next(r for r in engine.character.recent_recommendations(50)
                           if r.picks and r.picks[0].message_id == "a1")
                assert body["temperature"] == rec.companion_mood["sampling"]["temperature"]
                assert body["max_tokens"] == rec.companion_mood["sampling"]["max_tokens"]
                # the fact was offered (above the relevance floor), the model tagged it: reinforced now
                assert rec.memories and "Miso" in rec.memories[0].text
                assert sent["used_memory_ids"] == [rec.memories[0].memory_id]
                row = engine.memory.table.row_of[int(rec.memories[0].memory_id)]
                assert int(engine.memory.table.access[row]) >= 1

                # per-viewer cooldown: alice again is throttled, the model is not called
                n_requests = len(llm.requests)
                await post_messages(http, url, [_msg("alice_w", "Aiko what game is next?", "a2")])
                await until(lambda: any(o["message_id"] == "a2" for o in _outcomes(engine)), what="a2 handled")
                assert next(o for o in _outcomes(engine) if o["message_id"] == "a2")["status"] == "throttled"
                assert len(llm.requests) == n_requests

                # output moderation blocks a toxic reply: nothing is sent
                llm.script = [("stream", TOXIC_REPLY)]
                n_sent = len(chat.sent)
                await post_messages(http, url, [_msg("bob_q", "Aiko what do you think of my build?", "b1")])
                await until(lambda: any(o["message_id"] == "b1" for o in _outcomes(engine)), what="b1 handled")
                blocked = next(o for o in _outcomes(engine) if o["message_id"] == "b1")
                assert blocked["status"] == "blocked" and "output moderation" in blocked["reason"]
                assert len(chat.sent) == n_sent

                # a message deleted while the reply is generated is never answered
                llm.gate = asyncio.Event()
                await post_messages(http, url, [_msg("carol_z", "Aiko can you say hi to my sister?", "c1")])
                await until(lambda: len(llm.requests) > n_requests + 1, what="generation for c1 started")
                await engine.on_control(ModerationEvent(platform="twitch", channel=CH, kind=ModerationKind.CLEARMSG,
                                                        target_msg_id="c1"))
                llm.gate.set()
                await until(lambda: any(o["message_id"] == "c1" for o in _outcomes(engine)), what="c1 handled")
                assert next(o for o in _outcomes(engine) if o["message_id"] == "c1")["status"] == "skipped"
                assert len(chat.sent) == n_sent

                await until(lambda: any(e.get("type") == "outcome" for e in events), what="SSE outcome")
                assert any(e.get("type") == "delta" for e in events)
                reader.cancel()
            assert loop.stats["sent"] == 1 and loop.stats["blocked"] == 1
    finally:
        await llm.stop()
