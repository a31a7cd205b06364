"""How to answer: a tone from the message's affect, the companion's mood and the relationship.

Rules, first match wins (each adds its reason):

1. the message is hostile (toxic) -> ``firm``
2. a sub, raid or bits, or strongly excited chat while dopamine is high -> ``hyped``
3. the viewer is sad, afraid or hurting (negative sentiment / sadness, grief, fear,
   nervousness) -> ``supportive``
4. the companion is stressed (cortisol >= 0.6) -> ``calm``
5. a first-time chatter -> ``welcoming``; a strained (hostile) relationship -> ``calm``
6. amusement/joking, or a close viewer while the companion is in a good mood -> ``playful``
7. gratitude or love -> ``warm``
8. a question -> ``informative``
9. otherwise ``calm``
"""
from __future__ import annotations

from dataclasses import dataclass

from companion.character.pick import STRAINED, Candidate, is_question, relationship_closeness
from companion.messages import MessageKind

TONES = ("firm", "hyped", "supportive", "calm", "welcoming", "playful", "warm", "informative")


@dataclass(slots=True)
class ToneChoice:
    tone: str
    reasons: list[str]


def _emo(c: Candidate, *labels: str) -> float:
    r = c.record
    scores = r.emotions.scores if r is not None and r.emotions is not None else None
    if not scores:
        return 0.0
    return max(float(scores.get(label) or 0.0) for label in labels)


def choose_tone(c: Candidate, levels: dict[str, float], pleasure: float) -> ToneChoice:
    """Pick the tone for answering candidate ``c`` given the companion's levels and PAD pleasure."""
    r, m = c.record, c.message
    tox = r.toxicity if r is not None else None
    if tox is not None and (tox.flagged or (tox.score or 0.0) >= 0.5):
        return ToneChoice("firm", [f"message is hostile (toxicity {tox.score})"])
    if m.kind in (MessageKind.SUB, MessageKind.RESUB, MessageKind.SUBGIFT, MessageKind.RAID) or m.bits > 0:
        return ToneChoice("hyped", [f"{m.kind.value} event" + (f" with {m.bits} bits" if m.bits else "")])
    excitement = _emo(c, "excitement")
    if excitement >= 0.5 and levels["dopamine"] >= 0.6:
        return ToneChoice("hyped", [f"excited chat ({excitement:.2f}) and high dopamine ({levels['dopamine']:.2f})"])
    sent = r.sentiment.score if r is not None and r.sentiment is not None and r.sentiment.score is not None else 0.0
    hurt = _emo(c, "sadness", "grief", "fear", "nervousness", "disappointment", "remorse")
    if hurt >= 0.4 or sent <= -0.4:
        return ToneChoice("supportive", [f"viewer seems down (sentiment {sent:+.2f}, sadness/fear {hurt:.2f})"])
    if levels["cortisol"] >= 0.6:
        return ToneChoice("calm", [f"companion is stressed (cortisol {levels['cortisol']:.2f})"])
    if c.first_time:
        return ToneChoice("welcoming", ["first-time chatter"])
    if (c.relationship or "").lower() in STRAINED:
        return ToneChoice("calm", [f"relationship is {c.relationship}: no banter"])
    close = relationship_closeness(c.relationship, c.message_count)
    amused = _emo(c, "amusement")
    if amused >= 0.4:
        return ToneChoice("playful", [f"viewer is joking (amusement {amused:.2f})"])
    if close >= 0.6 and pleasure > 0.1:
        return ToneChoice("playful", [f"close viewer ({c.relationship or 'regular'}) and companion in a good mood"])
    warm = _emo(c, "gratitude", "love", "caring")
    if warm >= 0.4:
        return ToneChoice("warm", [f"gratitude/affection ({warm:.2f})"])
    if is_question(m.text):
        return ToneChoice("informative", ["viewer asked a question"])
    return ToneChoice("calm", ["nothing calls for a stronger tone"])
