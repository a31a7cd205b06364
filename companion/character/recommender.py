"""Assemble a :class:`Recommendation`: picks, tone, memories, moderation and prompt context."""
from __future__ import annotations

import logging
import re
import random
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
                         parts=clean, viewer=str(getattr(hit, "viewer", "") or ""))


def relevance(m: MemoryMention, lexical_bonus: float = 0.0) -> float:
    """How well a memory matches the message: the store's dense ``relevance`` (cosine; else the
    score), plus ``lexical_bonus`` when it also shares a content word with the message (the
    store's ``lexical`` part; the query is searched without the character's name, so that word
    is a topic, not the greeting)."""
    rel = float(m.parts.get("relevance", m.score))
    return rel + (lexical_bonus if float(m.parts.get("lexical", 0.0)) > 0.0 else 0.0)


def without_name(text: str, name: str) -> str:
    """``text`` minus the character's name (and an ``@`` before it): almost every message to
    her contains it, so it would make every memory that greets her look on-topic."""
    if not name:
        return text
    out = re.sub(rf"@?(?<![\w]){re.escape(name)}(?![\w])[,:!]?", " ", text, flags=re.IGNORECASE)
    return " ".join(out.split()) or text


def recall(memory: Any, query: str, viewer: str | None, k: int, exclude_text: str = "",
           exclude_id: str = "", vector: Any = None, floor: float = 0.0, lexical_bonus: float = 0.0,
           name: str = "") -> list[MemoryMention]:
    """Memories for this viewer and topic, best score first: the viewer's own memories, then, if
    fewer than ``k``, the best matches from anyone. Only memories whose :func:`relevance` reaches
    ``floor`` are kept: no memory is better than an irrelevant one. The store is searched with
    the query minus the character's ``name``. The message itself is
    excluded (the remember stage may already have stored it). Looking a memory up does not
    reinforce it (``reinforce=False``): only a reply that used it does (``CharacterEngine.acknowledge``).
    Never raises: a failing store yields []. ``vector`` is the query message's embedding when
    known: the store then skips its own encoder pass."""
    if memory is None or k <= 0 or not query.strip():
        return []
    out: list[MemoryMention] = []
    seen: set[str] = set()
    q = without_name(query, name)
    embed = getattr(memory, "embed", None)
    if vector is None and callable(embed):
        try:  # once, for both searches below
            vector = embed([q])[0]
        except Exception as exc:  # noqa: BLE001 - the store then embeds (or fails) on its own
            log.debug("query embedding failed: %s", exc)
    reuse = {"vector": vector} if vector is not None else {}
    for who in ([viewer, None] if viewer else [None]):
        try:
            hits = memory.search(q, viewer=who, k=k + 1, reinforce=False, **reuse)
        except Exception as exc:  # noqa: BLE001 - the store is another component; degrade, don't crash
            log.debug("memory search failed: %s", exc)
            continue
        for hit in hits or []:
            mention = _hit_to_mention(hit)
            if mention is None or mention.memory_id in seen:
                continue
            if exclude_id and (mention.memory_id == exclude_id or getattr(hit, "msg_id", None) == exclude_id):
                continue
            if mention.text.strip() == exclude_text.strip() or relevance(mention, lexical_bonus) < floor:
                continue
            seen.add(mention.memory_id)
            out.append(mention)
        if len(out) >= k:
            break
    out.sort(key=lambda m: m.score, reverse=True)
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
        id=f"{random.getrandbits(48):012x}", created_at=now, channel=channel, picks=[p for _, p in picks], tone=tone,
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
