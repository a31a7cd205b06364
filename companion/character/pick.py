"""Which chat messages deserve an answer: a documented, additive score with reasons.

score = sum of the weighted terms below (weights in ``character.json`` → ``pick.weights``):

==================  =====================================================================
term                value in [0, 1] (times its weight)
==================  =====================================================================
direct_address      1 if the message names the character (word match, ``@name``, a
                    platform mention, or a reply to the character)
question            1 if it ends with ``?`` or opens like a question (who/what/how/do you...)
first_time          1 for the platform's first-message flag or a viewer first seen now
sub / raid / bits   1 for a sub, resub or gifted sub / a raid; bits on a log scale
importance          ``record.memory.importance``
novelty             1 - highest character-trigram Jaccard (or embedding cosine) similarity
                    to the recent messages of the channel
relationship        closeness of the viewer (profile relationship / message count)
recency             exp(-age / window), so fresh messages win ties
low_content         1 for a chat line with fewer than two real words ("lol", "gg", an
                    emote); its weight is negative, so bare reactions need another reason
==================  =====================================================================

Messages are **skipped** (never picked, reason recorded) when toxic (flagged or
score >= ``toxicity_skip``), injection-looking, spam (near-duplicate / copypasta), already
answered, from the character itself, or system notices.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Container

from companion.character.config import PickConfig
from companion.character.stimulus import bits_strength
from companion.messages import ChatMessage, MessageKind
from companion.recommendation import MessagePick, PickReason
from companion.records import AnalysisRecord

_QUESTION_START = re.compile(
    r"^\s*(who|what|when|where|why|how|which|whose|whom|is|are|am|was|were|do|does|did|can|could|"
    r"will|would|should|shall|may|might|have|has|had)\b",
    re.IGNORECASE,
)
# Every stage of memory_store.profiles.STAGES must be here: an unknown label falls back to the
# message count, which made a hostile regular ("strained", many messages) the closest viewer.
RELATIONSHIP_CLOSENESS = {
    "stranger": 0.0, "new": 0.0, "newcomer": 0.0, "acquaintance": 0.3, "casual": 0.3,
    "regular": 0.6, "friend": 0.8, "vip": 0.8, "moderator": 0.7, "mod": 0.7,
    "close": 1.0, "close_friend": 1.0, "superfan": 1.0,
    "strained": 0.0, "hostile": 0.0,
}
STRAINED = frozenset({"strained", "hostile"})


_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def is_low_content(text: str) -> bool:
    """Fewer than two words of two or more letters ("lol", "gg", "pog", an emote)."""
    return len(_WORD.findall(text)) < 2


def is_question(text: str) -> bool:
    """A question mark, or a sentence that opens with a question word or auxiliary verb."""
    t = text.strip()
    return "?" in t or bool(_QUESTION_START.match(t))


def addresses(message: ChatMessage, name: str) -> str | None:
    """How the message addresses the character (a short reason), or None."""
    low = name.lower()
    if message.reply_to_user and message.reply_to_user.lower().lstrip("@") == low:
        return "replies to the character"
    if any(m.lower().lstrip("@") == low for m in message.mentions):
        return f"mentions @{name}"
    if re.search(rf"(?<![\w]){re.escape(low)}(?![\w])", message.text.lower()):
        return f"says the name {name!r}"
    return None


@functools.lru_cache(maxsize=4096)
def _trigrams(text: str) -> frozenset[str]:
    t = f"  {text.lower()}  "
    return frozenset(t[i:i + 3] for i in range(len(t) - 2))


def novelty(text: str, recent: list[str], embedding: Any = None, recent_emb: list[Any] | None = None) -> float:
    """1 - max similarity to recent messages (cosine on embeddings when both exist, else trigram Jaccard)."""
    if embedding is not None and recent_emb:
        sims = [float((embedding * e).sum()) for e in recent_emb if e is not None]
        if sims:
            return max(0.0, min(1.0, 1.0 - max(sims)))
    if not recent:
        return 1.0
    mine = _trigrams(text)
    best = 0.0
    for other in recent:
        theirs = _trigrams(other)
        union = len(mine | theirs)
        if union:
            best = max(best, len(mine & theirs) / union)
    return 1.0 - best


def relationship_closeness(relationship: str | None, message_count: int | None) -> float:
    """Closeness in [0, 1] from a relationship label, else from how much the viewer has chatted."""
    if relationship:
        key = relationship.lower().replace(" ", "_")
        if key in RELATIONSHIP_CLOSENESS:
            return RELATIONSHIP_CLOSENESS[key]
    if message_count:
        return min(1.0, math.log1p(message_count) / math.log(200))
    return 0.0


@dataclass(slots=True)
class Candidate:
    """One message under consideration, with what the engine knows about it."""

    message: ChatMessage
    record: AnalysisRecord | None
    seen_at: float
    first_time: bool = False
    novelty: float = 1.0
    relationship: str | None = None
    message_count: int | None = None
    spam_reason: str = ""
    injection: bool = False
    embedding: Any = None  # the analyser's L2-normalised vector, when there is one
    # score_candidate's time-independent reasons, computed once: a candidate stays in the pool
    # for the whole pick window and is rescored on every batch (key: the config and name used).
    static_reasons: tuple | None = None


def skip_reason(c: Candidate, cfg: PickConfig, name: str, answered: Container[str]) -> str | None:
    """Why a candidate must not be picked, or None."""
    m, r = c.message, c.record
    if m.id in answered:
        return "already answered"
    if m.user.lower() == name.lower():
        return "sent by the character"
    if m.kind in (MessageKind.SYSTEM, MessageKind.ANNOUNCEMENT):
        return "system notice"
    if c.injection:
        return "looks like a prompt-injection attempt"
    tox = r.toxicity if r is not None else None
    if tox is not None and (tox.flagged or (tox.score is not None and tox.score >= cfg.toxicity_skip)):
        return f"toxic (score {tox.score if tox.score is not None else 'n/a'}, label {tox.label})"
    if c.spam_reason:
        return f"spam: {c.spam_reason}"
    return None


def score_candidate(c: Candidate, cfg: PickConfig, name: str, now: float) -> MessagePick:
    """The additive pick score with one :class:`PickReason` per non-zero term."""
    w, m = cfg.weights, c.message
    key = (id(cfg), name)
    if c.static_reasons is None or c.static_reasons[0] != key:
        c.static_reasons = (key, _static_reasons(c, cfg, name))
    reasons = list(c.static_reasons[1])
    age = max(0.0, now - c.seen_at)
    recency = math.exp(-age / max(cfg.window_s, 1e-6))
    if recency > 0 and w.get("recency", 0.0) != 0:
        reasons.append(PickReason("recency", round(w["recency"] * recency, 4), f"{age:.0f}s old"))
    total = round(sum(x.weight for x in reasons), 4)
    return MessagePick(message_id=m.id, channel=m.channel, user=m.user, text=m.text, score=total, reasons=reasons)


def _static_reasons(c: Candidate, cfg: PickConfig, name: str) -> tuple:
    """Every pick reason except recency (which changes with the clock)."""
    w, m, r = cfg.weights, c.message, c.record
    reasons: list[PickReason] = []

    def add(term: str, value: float, detail: str) -> None:
        if value > 0 and w.get(term, 0.0) != 0:
            reasons.append(PickReason(term, round(w[term] * value, 4), detail))

    how = addresses(m, name)
    if how:
        add("direct_address", 1.0, how)
    if m.kind == MessageKind.MESSAGE and is_question(m.text):
        add("question", 1.0, "asks a question")
    if c.first_time:
        add("first_time", 1.0, "first message from this viewer")
    if m.kind in (MessageKind.SUB, MessageKind.RESUB, MessageKind.SUBGIFT):
        add("sub", 1.0, m.kind.value)
    if m.kind == MessageKind.RAID:
        add("raid", 1.0, "raid")
    if m.bits > 0:
        add("bits", bits_strength(m.bits), f"{m.bits} bits")
    imp = r.memory.importance if r is not None and r.memory is not None else None
    if imp:
        add("importance", max(0.0, min(1.0, imp)), f"importance {imp:.2f}")
    add("novelty", c.novelty, f"novelty {c.novelty:.2f}")
    close = relationship_closeness(c.relationship, c.message_count)
    add("relationship", close, f"relationship {c.relationship or 'unknown'}"
        + (f", {c.message_count} messages" if c.message_count else ""))
    if m.kind == MessageKind.MESSAGE and m.bits == 0 and not how and is_low_content(m.text):
        add("low_content", 1.0, "bare reaction")
    return tuple(reasons)
