"""A discrete facial expression from the PAD mood, with hysteresis so it does not flicker.

Each label has a prototype point in PAD space (after Mehrabian's emotion placements). The
candidate score is minus the Euclidean distance to the prototype, plus ``cue_bonus`` for the
label matching a strong, recent chat cue (that is how surprise and disgust become reachable).
The shown label changes only when the best candidate beats it by ``margin`` *and* the current
label has been shown for ``min_dwell_s``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from companion.character.config import ExpressionConfig

EXPRESSIONS: tuple[str, ...] = ("neutral", "joy", "sadness", "anger", "fear", "surprise", "disgust", "smirk")
PROTOTYPES: dict[str, tuple[float, float, float]] = {
    "neutral": (0.0, 0.0, 0.0),
    "joy": (0.75, 0.5, 0.3),
    "sadness": (-0.6, -0.4, -0.35),
    "anger": (-0.55, 0.6, 0.35),
    "fear": (-0.6, 0.6, -0.45),
    "surprise": (0.2, 0.7, -0.1),
    "disgust": (-0.55, 0.2, 0.4),
    "smirk": (0.35, -0.1, 0.5),
}
CUE_BONUS = 0.25
CUE_TTL_S = 10.0


def expression_scores(pad: tuple[float, float, float], cue: str | None = None, cue_strength: float = 0.0) -> dict[str, float]:
    """Score per label (higher is closer)."""
    out = {}
    for label, proto in PROTOTYPES.items():
        out[label] = -math.dist(pad, proto)
        if cue == label:
            out[label] += CUE_BONUS * cue_strength
    return out


@dataclass(slots=True)
class ExpressionState:
    """The shown expression and since when (epoch s)."""

    config: ExpressionConfig
    label: str = "neutral"
    since: float = 0.0

    def update(self, pad: tuple[float, float, float], t: float, cue: str | None = None,
               cue_strength: float = 0.0) -> str:
        """Feed the current PAD; returns the (possibly unchanged) label."""
        scores = expression_scores(pad, cue, cue_strength)
        best = max(scores, key=scores.__getitem__)
        if best != self.label:
            beats = scores[best] - scores.get(self.label, -math.inf) > self.config.margin
            dwelt = t - self.since >= self.config.min_dwell_s
            if beats and dwelt:
                self.label, self.since = best, t
        return self.label
