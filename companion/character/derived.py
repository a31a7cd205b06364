r"""What the mood looks like from outside: PAD, LLM sampling parameters and conditioning tokens.

With deviations from baseline :math:`d_c = c - b_c`:

.. math::

    P = \tanh(2.0\,d_{DA} + 1.5\,d_{SE} + 1.2\,d_{OX} - 2.5\,d_{CO})\\
    A = \tanh(2.5\,d_{DA} + 2.0\,d_{CO} - 0.5\,d_{SE})\\
    D = \tanh(1.5\,d_{SE} + 1.0\,d_{CO} + 0.3\,d_{DA})

so the baseline mood is PAD (0, 0, 0). Sampling: ``temperature`` grows linearly with dopamine,
``top_p`` with serotonin, ``max_tokens`` shrinks as cortisol rises (terse under stress).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

_ABBREV = {"dopamine": "DA", "serotonin": "SE", "cortisol": "CO", "oxytocin": "OX"}


@dataclass(slots=True)
class PADMood:
    pleasure: float
    arousal: float
    dominance: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.pleasure, self.arousal, self.dominance)

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@dataclass(slots=True)
class SamplingParams:
    temperature: float
    top_p: float
    max_tokens: int
    presence_penalty: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def pad_from(levels: dict[str, float], baseline: dict[str, float]) -> PADMood:
    """PAD mood (each -1..1) from the four levels."""
    d = {c: levels[c] - baseline[c] for c in levels}
    return PADMood(
        pleasure=math.tanh(2.0 * d["dopamine"] + 1.5 * d["serotonin"] + 1.2 * d["oxytocin"] - 2.5 * d["cortisol"]),
        arousal=math.tanh(2.5 * d["dopamine"] + 2.0 * d["cortisol"] - 0.5 * d["serotonin"]),
        dominance=math.tanh(1.5 * d["serotonin"] + 1.0 * d["cortisol"] + 0.3 * d["dopamine"]),
    )


def sampling_from(levels: dict[str, float], cfg: dict[str, float]) -> SamplingParams:
    """LLM sampling parameters: livelier when dopamine is high, terser when cortisol is high."""
    da, se, co = levels["dopamine"], levels["serotonin"], levels["cortisol"]
    temp = cfg["temperature_min"] + (cfg["temperature_max"] - cfg["temperature_min"]) * da
    top_p = cfg["top_p_min"] + (cfg["top_p_max"] - cfg["top_p_min"]) * se
    max_tokens = cfg["max_tokens_calm"] + (cfg["max_tokens_stressed"] - cfg["max_tokens_calm"]) * co
    return SamplingParams(
        temperature=round(temp, 3), top_p=round(top_p, 3), max_tokens=int(round(max_tokens)),
        presence_penalty=round(0.6 * (1.0 - se), 3),
    )


def conditioning_tokens(levels: dict[str, float], expression: str | None = None) -> str:
    """Control tokens for a mood-conditioned model, e.g. ``<DA=0.75><SE=0.60><CO=0.10><OX=0.40>``."""
    toks = "".join(f"<{_ABBREV[c]}={levels[c]:.2f}>" for c in ("dopamine", "serotonin", "cortisol", "oxytocin"))
    return toks + (f"<EXPR={expression}>" if expression else "")
