"""Memory importance: a documented, deterministic score in 0..1 (there is no labelled set for it).

Five cues, each in 0..1, are combined with a noisy-OR,
    importance = 1 - prod_i (1 - w_i * cue_i),
so any single strong cue makes a message worth remembering and cues reinforce each other.

| cue | definition | weight |
|---|---|---|
| emotional | max(abs(sentiment score), top non-neutral GoEmotions probability, toxicity score) | 0.45 |
| novelty | 1 - max cosine similarity to the channel's recent embeddings (lexicon mode: 0 if the exact text was seen recently, else 1) | 0.30 |
| address | the text names the companion (`character_names`, as a word or @mention), or the message replies to / mentions it | 0.70 |
| question | a '?' or a leading wh-/aux word (what, how, can, do, ...) | 0.30 |
| event | sub/resub/subgift/raid = 1, bits = min(1, bits/500) floored at 0.5, first message in channel = 0.6 | 0.60 |
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from companion.messages import ChatMessage, MessageKind

_QUESTION = re.compile(r"\?|^\s*(what|why|how|when|where|who|which|can|could|do|does|did|is|are|will|"
                       r"would|should|have|has)\b", re.I)


@dataclass(slots=True)
class ImportanceWeights:
    emotional: float = 0.45
    novelty: float = 0.30
    address: float = 0.70
    question: float = 0.30
    event: float = 0.60


@dataclass(slots=True)
class ImportanceCues:
    emotional: float = 0.0
    novelty: float = 0.0
    address: float = 0.0
    question: float = 0.0
    event: float = 0.0


@dataclass
class ImportanceScorer:
    character_names: tuple[str, ...] = ("Aiko",)
    weights: ImportanceWeights = field(default_factory=ImportanceWeights)

    def __post_init__(self) -> None:
        names = "|".join(re.escape(n) for n in self.character_names if n)
        self._name_re = re.compile(rf"(?<![\w@])@?(?:{names})\b", re.I) if names else None
        self._lower = {n.lower() for n in self.character_names}

    def addressed(self, msg: ChatMessage) -> bool:
        """True when the message names, mentions or replies to the companion."""
        if self._name_re is not None and self._name_re.search(msg.text):
            return True
        if msg.reply_to_user and msg.reply_to_user.lower() in self._lower:
            return True
        return any(m.lower().lstrip("@") in self._lower for m in msg.mentions)

    def cues(self, msg: ChatMessage, emotional: float, novelty: float) -> ImportanceCues:
        if msg.kind in (MessageKind.SUB, MessageKind.RESUB, MessageKind.SUBGIFT, MessageKind.RAID):
            event = 1.0
        elif msg.kind == MessageKind.BITS or msg.bits > 0:
            event = max(0.5, min(1.0, msg.bits / 500))
        elif msg.first_message:
            event = 0.6
        else:
            event = 0.0
        return ImportanceCues(
            emotional=float(min(1.0, max(0.0, emotional))),
            novelty=float(min(1.0, max(0.0, novelty))),
            address=1.0 if self.addressed(msg) else 0.0,
            question=1.0 if _QUESTION.search(msg.text) else 0.0,
            event=event,
        )

    def score(self, cues: ImportanceCues) -> float:
        """Noisy-OR of the weighted cues."""
        w = self.weights
        keep = 1.0
        for c, wi in ((cues.emotional, w.emotional), (cues.novelty, w.novelty), (cues.address, w.address),
                      (cues.question, w.question), (cues.event, w.event)):
            keep *= 1.0 - wi * c
        return float(round(1.0 - keep, 4))
