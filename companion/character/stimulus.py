"""Turn one analysed chat message into the inputs of the mood ODE.

A message has *affect terms* (in [0, 1]; ``valence`` in -1..1) that join the rate-normalised
affect mix (:class:`companion.character.neurochem.AffectMix`), and *event terms* (raids, subs,
bits, an insult aimed at the character) that are impulses. A field the analyser left ``None``
(a degraded record) contributes 0, so missing analysis never invents mood. A spam message adds
only ``spam`` to the mix: a flood of copies of "LUL" must not read as happy chat.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from companion.messages import ChatMessage, MessageKind
from companion.records import AnalysisRecord

BOND_KINDS = frozenset({MessageKind.SUB, MessageKind.RESUB, MessageKind.SUBGIFT, MessageKind.RAID})
HOSTILE_SCORE = 0.5  # unflagged toxicity that counts as hostile when ...
HOSTILE_AFFECT = 0.6  # ... the anger or negative-affect term is at least this
MIX_TERMS: tuple[str, ...] = ("positive", "hype", "negative", "warm", "toxic", "anger", "spam", "valence")


@dataclass(slots=True)
class Stimulus:
    """Inputs of :meth:`Neurochemistry.apply`. Affect terms join the mix; ``event_hype``,
    ``bond_event`` and ``insult`` are impulses; ``cue`` is the dominant affect label (expression hint)."""

    positive: float = 0.0  # positive affect -> dopamine
    hype: float = 0.0  # excitement, positive arousal -> dopamine
    negative: float = 0.0  # sadness, disappointment -> dopamine suppression
    warm: float = 0.0  # gratitude, love, caring -> oxytocin
    toxic: float = 0.0  # flagged toxicity -> cortisol
    anger: float = 0.0  # anger, annoyance, disgust -> cortisol
    spam: float = 0.0  # near-duplicate flood -> cortisol
    valence: float = 0.0  # -1..1, the slow mix that drives serotonin
    event_hype: float = 0.0  # raids, subs, bits -> dopamine impulse
    bond_event: float = 0.0  # subs, gifted subs, raids, bits -> oxytocin impulse
    insult: float = 0.0  # a flagged message aimed at the character -> cortisol impulse
    cue: str | None = None
    cue_strength: float = 0.0

    def mix_values(self) -> dict[str, float]:
        """The affect terms this message adds to the mix, clamped. A spam message keeps only its
        negative side: repeating a line must not cheer her up, but repeated abuse is still abuse."""
        out = {k: _clip(getattr(self, k)) for k in MIX_TERMS if k != "valence"}
        out["valence"] = max(-1.0, min(1.0, float(self.valence)))
        if self.spam > 0:
            out.update(positive=0.0, hype=0.0, warm=0.0, valence=min(0.0, out["valence"]))
        return out


def _clip(x: float | None) -> float:
    if x is None or math.isnan(x):
        return 0.0
    return max(0.0, min(1.0, float(x)))


def _emo(record: AnalysisRecord, *labels: str) -> float:
    scores = record.emotions.scores if record.emotions else None
    if not scores:
        return 0.0
    return max(_clip(scores.get(label)) for label in labels)


def _ekman(record: AnalysisRecord, label: str) -> float:
    scores = record.ekman.scores if record.ekman else None
    return _clip(scores.get(label)) if scores else 0.0


def bits_strength(bits: int) -> float:
    """1 bit ~ 0.0, 100 bits ~ 0.67, 1000+ bits = 1.0 (log scale)."""
    return _clip(math.log10(bits) / 3.0) if bits > 0 else 0.0


def stimulus_from(message: ChatMessage, record: AnalysisRecord | None, spam: bool = False,
                  addressed: bool = False) -> Stimulus:
    """The stimulus one message applies to the companion's neurochemistry. ``addressed``: the
    message names or replies to the character (a flagged one is then an insult event)."""
    s = Stimulus(spam=1.0 if spam else 0.0)
    if record is not None:
        sent = record.sentiment.score if record.sentiment else None
        sent = 0.0 if sent is None else max(-1.0, min(1.0, float(sent)))
        valence = sent
        if record.mood and record.mood.valence is not None:
            valence = 0.5 * (sent + max(-1.0, min(1.0, record.mood.valence)))
        s.valence = valence
        s.positive = max(_clip(sent), _emo(record, "joy", "amusement", "admiration", "optimism"),
                         _ekman(record, "joy"))
        pleasure = record.pad.pleasure if record.pad else None
        arousal = record.pad.arousal if record.pad else None
        pad_hype = _clip(arousal) if (pleasure or 0.0) > 0 else 0.0
        s.hype = max(_emo(record, "excitement"), pad_hype)
        s.negative = max(_clip(-sent), _emo(record, "sadness", "grief", "disappointment", "remorse"))
        s.warm = _emo(record, "gratitude", "love", "caring")
        s.anger = max(_emo(record, "anger", "annoyance", "disgust"), _ekman(record, "anger"),
                      _ekman(record, "disgust"))
        tox = record.toxicity
        if tox is not None and tox.flagged:
            s.toxic = max(_clip(tox.score), 0.7)
            if addressed:
                s.insult = 1.0
        elif tox is not None and _clip(tox.score) >= HOSTILE_SCORE and max(s.anger, s.negative) >= HOSTILE_AFFECT:
            # Raw scores of 0.5-0.8 are common on harmless short chat ("nice play", "lol idiots"):
            # an unflagged score counts only when the emotion heads agree the line is hostile.
            s.toxic = _clip(tox.score)
        ek = record.ekman
        if ek is not None and ek.label and ek.label != "neutral" and ek.scores:
            s.cue, s.cue_strength = ek.label, _clip(ek.scores.get(ek.label))
    if message.kind in BOND_KINDS:
        s.bond_event = 1.0
        s.event_hype = 1.0 if message.kind == MessageKind.RAID else 0.6
        s.cue, s.cue_strength = "joy", 1.0
    if message.bits > 0 or message.kind == MessageKind.BITS:
        b = bits_strength(message.bits) or 0.3
        s.bond_event = max(s.bond_event, b)
        s.event_hype = max(s.event_hype, b)
    return s
