"""The category vector a decision is made on, from an analysis record.

When the toxicity head gives no ``categories`` (an older artifact, or degraded analysis), a vector
is derived from ``label``/``score`` so the policy still applies: ``hate`` -> identity_attack,
``offensive`` -> insult, at the overall score.
"""
from __future__ import annotations

from dataclasses import dataclass

from companion.records import TOXICITY_CATEGORIES, TOXICITY_TARGETS, AnalysisRecord, Toxicity


@dataclass(slots=True)
class ToxicityView:
    """What moderation reads from ``record.toxicity``, always complete."""

    scores: dict[str, float]  # every TOXICITY_CATEGORIES key, 0..1
    score: float  # overall toxicity, 0..1 (0 when the model did not run)
    target: str | None  # person | group | none, None when unknown
    flagged: bool
    label: str | None
    derived: bool  # True when ``scores`` came from label/score, not the head's categories

    def vector(self) -> dict[str, float]:
        """Features for the per-channel calibration: categories, target one-hot, overall score."""
        x = {f"cat_{k}": float(v) for k, v in self.scores.items()}
        for t in TOXICITY_TARGETS:
            x[f"target_{t}"] = 1.0 if self.target == t else 0.0
        x["score"] = float(self.score)
        x["flagged"] = 1.0 if self.flagged else 0.0
        return x


def record_features(record: AnalysisRecord | None) -> dict[str, float]:
    """Features for the per-channel calibration: the toxicity view's :meth:`ToxicityView.vector`
    plus the record's negative sentiment and its anger, annoyance and disgust scores (other
    heads of the same encoder pass, which carry flaming that the toxicity head scores low)."""
    x = view_of(record.toxicity if record is not None else None).vector()
    if record is None:
        return x
    sent = record.sentiment.score if record.sentiment is not None else None
    x["sent_negative"] = max(0.0, -float(sent)) if sent is not None else 0.0
    scores = record.emotions.scores if record.emotions is not None else None
    for emo in ("anger", "annoyance", "disgust"):
        x[f"emo_{emo}"] = float(scores.get(emo, 0.0)) if scores else 0.0
    return x


def view_of(tox: Toxicity | None) -> ToxicityView:
    """The complete view of ``tox`` (None: nothing toxic known)."""
    zero = {c: 0.0 for c in TOXICITY_CATEGORIES}
    if tox is None:
        return ToxicityView(zero, 0.0, None, False, None, True)
    score = float(tox.score) if tox.score is not None else 0.0
    if tox.categories:
        scores = {c: float(tox.categories.get(c) or 0.0) for c in TOXICITY_CATEGORIES}
        return ToxicityView(scores, score, tox.target, bool(tox.flagged), tox.label, False)
    scores = dict(zero)
    label = (tox.label or "").lower()
    if label.startswith("hate"):
        scores["identity_attack"] = score
    elif label.startswith("offensive") or tox.flagged:
        scores["insult"] = score
    return ToxicityView(scores, score, tox.target, bool(tox.flagged), tox.label, True)
