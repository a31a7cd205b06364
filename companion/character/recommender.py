"""Assemble a :class:`Recommendation`: picks, tone, memories, moderation and prompt context."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from companion.character.pick import Candidate
from companion.character.prompt_context import build_prompt, chat_line
from companion.character.tone import choose_tone
from companion.recommendation import (
    MemoryMention,
    MessagePick,
    ModerationSuggestion,
    PickReason,
    Recommendation,
    SkippedMessage,
)

log = logging.getLogger(__name__)


def _hit_to_mention(hit: Any) -> MemoryMention | None:
    mid = getattr(hit, "id", None)
    text = getattr(hit, "text", None)
    if mid is None or text is None:
        return None
    parts = getattr(hit, "parts", None) or {}
    clean = {}
    for k, v in dict(parts).items():
        try:
            clean[str(k)] = round(float(v), 4)
        except (TypeError, ValueError):
            continue
    return MemoryMention(memory_id=str(mid), text=str(text), score=round(float(getattr(hit, "score", 0.0) or 0.0), 4),
                         parts=clean)


def recall(memory: Any, query: str, viewer: str | None, k: int, exclude_text: str = "",
           exclude_id: str = "", vector: Any = None) -> list[MemoryMention]:
    """Memories for this viewer and topic: the viewer's own memories first (best first), then, if
    fewer than ``k``, the best matches from anyone. The message itself is excluded (the remember
    stage may already have stored it). Never raises: a failing store yields []. ``vector`` is the
    query message's embedding when known: the store then skips its own encoder pass."""
    if memory is None or k <= 0 or not query.strip():
        return []
    out: list[MemoryMention] = []
    seen: set[str] = set()
    reuse = {"vector": vector} if vector is not None else {}
    for who in ([viewer, None] if viewer else [None]):
        try:
            hits = memory.search(query, viewer=who, k=k + 1, **reuse)
        except Exception as exc:  # noqa: BLE001 - the store is another component; degrade, don't crash
            log.debug("memory search failed: %s", exc)
            continue
        batch = []
        for hit in hits or []:
            mention = _hit_to_mention(hit)
            if mention is None or mention.memory_id in seen:
                continue
            if exclude_id and (mention.memory_id == exclude_id or getattr(hit, "msg_id", None) == exclude_id):
                continue
            if mention.text.strip() == exclude_text.strip():
                continue
            seen.add(mention.memory_id)
            batch.append(mention)
        batch.sort(key=lambda m: m.score, reverse=True)
        out.extend(batch)
        if len(out) >= k:
            break
    return out[:k]


def build_recommendation(*, channel: str, picks: list[tuple[Candidate, MessagePick]], skipped: list[SkippedMessage],
                         moderation: list[ModerationSuggestion], recent: list[Candidate], memories: list[MemoryMention],
                         mood: dict[str, Any], name: str, persona: str, now: float) -> Recommendation:
    """One recommendation for ``channel``. The tone follows the top pick."""
    levels = mood.get("neurochemicals", {})
    pleasure = float(mood.get("pad", {}).get("pleasure", 0.0))
    if picks:
        choice = choose_tone(picks[0][0], levels, pleasure)
        tone, tone_reasons = choice.tone, choice.reasons
    elif moderation:
        tone, tone_reasons = "firm", ["only moderation to do"]
    else:
        tone, tone_reasons = "calm", ["nothing to answer"]
    answer = [chat_line(c, [r.name for r in p.reasons if r.name in ("first_time", "question", "direct_address")])
              for c, p in picks]
    context = [chat_line(c) for c in recent]
    prompt = build_prompt(name=name, persona=persona, mood=mood, tone=tone, tone_reasons=tone_reasons,
                          answer=answer, recent=context, memories=memories)
    return Recommendation(
        id=uuid.uuid4().hex[:12], created_at=now, channel=channel, picks=[p for _, p in picks], tone=tone,
        tone_reasons=tone_reasons, memories=memories, moderation=moderation, companion_mood=mood, prompt=prompt,
        skipped=skipped,
    )


def recommendation_from_dict(d: dict[str, Any]) -> Recommendation:
    """Inverse of ``Recommendation.to_dict`` (used when loading persisted recommendations)."""
    picks = [MessagePick(**{**p, "reasons": [PickReason(**r) for r in p.get("reasons", [])]}) for p in d.get("picks", [])]
    return Recommendation(
        id=d["id"], created_at=d.get("created_at", 0.0), channel=d.get("channel", ""), picks=picks,
        tone=d.get("tone", "calm"), tone_reasons=list(d.get("tone_reasons", [])),
        memories=[MemoryMention(**m) for m in d.get("memories", [])],
        moderation=[ModerationSuggestion(**m) for m in d.get("moderation", [])],
        companion_mood=dict(d.get("companion_mood", {})), prompt=dict(d.get("prompt", {})),
        skipped=[SkippedMessage(**s) for s in d.get("skipped", [])],
    )
