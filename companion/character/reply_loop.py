"""The reply loop: the best recommendation -> a streamed LLM reply -> output moderation -> chat.

For every new recommendation with picks, the loop takes the top pick and, unless a throttle says
no, asks the model for a reply built from the recommendation's prompt (persona, mood, tone,
the untrusted-delimited chat context and the chosen memories) with the sampling parameters the
mood gives. Tokens are published on the bus (topic ``reply``) as they stream in. The finished
reply passes output moderation (the engine's ``reply_guard``: the same toxicity model as chat)
and is sent with ``--reply``; without it the reply is a draft on the bus. A reply that names a
memory with ``[mem:ID]`` used it: the markers are stripped and those ids reinforce the memories.

Throttles: a global minimum interval between replies, a per-viewer cooldown, at most one
generation at a time, and never a reply to a message that is held for review or was deleted
(checked before asking and again before sending).
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from companion.character.llm_client import LLMError, OpenAIChatClient
from companion.recommendation import Recommendation

log = logging.getLogger(__name__)

MEMORY_TAG = re.compile(r"\[mem:([A-Za-z0-9_.:-]{1,64})\]")
REPLY_RULES = ("Answer in one or two short chat lines, in character, addressed to the viewer. "
               "If you use one of the memories, put its tag right after the words that use it, like "
               "[mem:ID] (the tag is removed before sending). Never output anything else in brackets.")


@dataclass(slots=True)
class ReplyConfig:
    min_interval_s: float = 20.0  # between any two replies
    viewer_cooldown_s: float = 120.0  # between two replies to the same viewer
    max_chars: int = 400


@dataclass(slots=True)
class ReplyOutcome:
    """What happened to one recommendation."""

    recommendation_id: str
    message_id: str | None
    status: str  # sent | draft | blocked | throttled | skipped | failed
    reason: str = ""
    text: str = ""
    used_memory_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"recommendation_id": self.recommendation_id, "message_id": self.message_id, "status": self.status,
                "reason": self.reason, "text": self.text, "used_memory_ids": list(self.used_memory_ids)}


def used_memories(text: str, offered: set[str]) -> tuple[str, list[str]]:
    """The reply without ``[mem:ID]`` tags, and the offered ids it tagged (in order, once each)."""
    used = [m for m in dict.fromkeys(MEMORY_TAG.findall(text)) if m in offered]
    clean = " ".join(MEMORY_TAG.sub("", text).split())
    return clean, used


class ReplyLoop:
    """Subscribe to a :class:`CharacterEngine` and answer through ``engine`` (the main engine:
    ``reply_guard``, ``send_reply``, ``config.reply``, ``bus``, ``moderation``)."""

    def __init__(self, engine: Any, character: Any, client: OpenAIChatClient, config: ReplyConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.character = character
        self.client = client
        self.config = config or ReplyConfig()
        self.clock = clock
        self._last_reply: float | None = None
        self._last_by_viewer: dict[str, float] = {}
        self._busy = asyncio.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task] = set()
        self.outcomes: list[ReplyOutcome] = []
        self.stats = {"sent": 0, "draft": 0, "blocked": 0, "throttled": 0, "skipped": 0, "failed": 0}

    def start(self) -> None:
        """Begin answering new recommendations."""
        self._unsubscribe = self.character.on_recommendation(self._on_recommendation)

    async def stop(self) -> None:
        """Stop answering, wait for a reply in flight, close the HTTP client."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    def _on_recommendation(self, rec: Recommendation) -> None:
        # Never block the character stage on the model: the reply runs as its own task.
        task = asyncio.get_running_loop().create_task(self.handle(rec))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----- checks ------------------------------------------------------------------------------
    def _held(self, message_id: str) -> bool:
        queue = getattr(getattr(self.engine, "moderation", None), "queue", None)
        return queue is not None and any(i.message_id == message_id for i in queue.items())

    def _blocked_reason(self, message_id: str) -> str | None:
        if not self.character.can_answer(message_id):
            return "the message was deleted"
        if self._held(message_id):
            return "the message is held for review"
        return None

    def _throttled(self, viewer: str) -> str | None:
        now = self.clock()
        if self._busy.locked():
            return "a reply is already being written"
        if self._last_reply is not None and now - self._last_reply < self.config.min_interval_s:
            return f"global minimum interval ({self.config.min_interval_s:g} s)"
        last = self._last_by_viewer.get(viewer)
        if last is not None and now - last < self.config.viewer_cooldown_s:
            return f"viewer cooldown ({self.config.viewer_cooldown_s:g} s)"
        return None

    def _record(self, out: ReplyOutcome) -> ReplyOutcome:
        self.stats[out.status] = self.stats.get(out.status, 0) + 1
        self.outcomes.append(out)
        del self.outcomes[:-100]
        bus = getattr(self.engine, "bus", None)
        if bus is not None:
            bus.publish("reply", {"type": "outcome", **out.to_dict()})
        return out

    # ----- one recommendation ------------------------------------------------------------------
    async def handle(self, rec: Recommendation) -> ReplyOutcome:
        """Answer one recommendation (or say why not)."""
        if not rec.picks:
            return self._record(ReplyOutcome(rec.id, None, "skipped", "nothing to answer"))
        pick = rec.picks[0]
        viewer = f"{rec.channel}:{pick.user.lower()}"
        why = self._blocked_reason(pick.message_id)
        if why:
            return self._record(ReplyOutcome(rec.id, pick.message_id, "skipped", why))
        why = self._throttled(viewer)
        if why:
            return self._record(ReplyOutcome(rec.id, pick.message_id, "throttled", why))
        async with self._busy:
            self._last_reply = self.clock()  # the interval counts from the attempt: a failing model is not hammered
            self._last_by_viewer[viewer] = self._last_reply
            return self._record(await self._generate_and_send(rec, pick))

    async def _generate_and_send(self, rec: Recommendation, pick: Any) -> ReplyOutcome:
        messages = [dict(m) for m in rec.prompt.get("messages", [])]
        if messages and messages[0].get("role") == "system":
            messages[0]["content"] = f"{messages[0]['content']}\n{REPLY_RULES}"
        sampling = dict(rec.companion_mood.get("sampling", {}))
        bus = getattr(self.engine, "bus", None)
        parts: list[str] = []
        try:
            async for token in self.client.stream(
                    messages, temperature=sampling.get("temperature"), top_p=sampling.get("top_p"),
                    max_tokens=sampling.get("max_tokens"), presence_penalty=sampling.get("presence_penalty")):
                parts.append(token)
                if bus is not None:
                    bus.publish("reply", {"type": "delta", "recommendation_id": rec.id, "text": token})
                if sum(map(len, parts)) > 4 * self.config.max_chars:
                    break  # a runaway generation: what came so far is plenty
        except LLMError as exc:
            return ReplyOutcome(rec.id, pick.message_id, "failed", str(exc))
        offered = {m.memory_id for m in rec.memories}
        text, used = used_memories("".join(parts), offered)
        text = text[: self.config.max_chars].strip()
        if not text:
            return ReplyOutcome(rec.id, pick.message_id, "failed", "the model returned nothing")
        reason = await asyncio.to_thread(self.engine.reply_guard, text)
        if reason is not None:
            return ReplyOutcome(rec.id, pick.message_id, "blocked", f"output moderation: {reason}", text)
        why = self._blocked_reason(pick.message_id)  # it may have been deleted while we generated
        if why:
            return ReplyOutcome(rec.id, pick.message_id, "skipped", why, text)
        if not getattr(getattr(self.engine, "config", None), "reply", False):
            return ReplyOutcome(rec.id, pick.message_id, "draft", "replies are off (start with --reply)", text, used)
        try:
            await self.engine.send_reply(rec.channel, text, pick.message_id)
        except Exception as exc:  # noqa: BLE001 - SendBlocked/SendDisabled/SendError: report, keep looping
            return ReplyOutcome(rec.id, pick.message_id, "failed", f"not sent: {exc}", text)
        await asyncio.to_thread(self.character.acknowledge, used, pick.message_id)
        return ReplyOutcome(rec.id, pick.message_id, "sent", "", text, used)
