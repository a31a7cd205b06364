r"""The companion's neurochemistry: four levels in [0, 1] driven by chat, integrated exactly.

State: dopamine (DA), serotonin (SE), cortisol (CO), oxytocin (OX), plus a slow average of chat
valence :math:`\bar v` (-1..1).

**Between messages** every level relaxes to its baseline :math:`b_c` with half-life
:math:`T_c` (:math:`k_c = \ln 2 / T_c`), and serotonin is also driven by sustained valence:

.. math::

    \frac{dc}{dt} = -k_c (c - b_c) + u_c (1 - c) - w_c\, c

with :math:`u_{SE} = r\,\max(0, \bar v)` and :math:`w_{SE} = q\,\max(0, -\bar v)`
(``serotonin_rate`` r, ``serotonin_drain`` q, per second); :math:`u = w = 0` for the other three.
:math:`\bar v` decays to 0 with time constant :math:`\tau` (``valence_tau_s``):
:math:`\bar v(t+h) = \bar v(t) e^{-h/\tau}`.
Holding :math:`u, w` constant over a step h (zero-order hold; steps are at most 1 s while
:math:`\bar v` is non-negligible) the linear ODE has the exact solution

.. math::

    a = k + u + w,\quad c_\infty = \frac{k b + u}{a},\quad c(t+h) = c_\infty + (c(t) - c_\infty) e^{-a h}

which stays in [0, 1] because :math:`c_\infty \in [0, 1]` and the step is a convex combination.
With no drive it is the pure exponential decay :math:`c(t) = b + (c_0 - b)\,2^{-t/T}`.

**At a message** with stimulus terms :math:`s \in [0, 1]` (see :mod:`.stimulus`) the level gets a
saturating impulse, the exact solution of :math:`dc/dt = g s\,\delta(t - t_i)\,(1 - c)`:

.. math::

    c^+ = 1 - (1 - c^-)\, e^{-g s}\qquad\text{(rise)}, \qquad c^+ = c^- e^{-g s}\qquad\text{(suppression)}

* DA rises with positive affect (``dopamine_positive``) and hype (``dopamine_hype``: excitement,
  positive arousal, raids, bits) and is suppressed by sadness/negative sentiment
  (``dopamine_negative``).
* OX rises with gratitude/love/caring (``oxytocin_warm``) and subs/raids/bits (``oxytocin_event``).
* CO rises with toxicity (``cortisol_toxic``), anger/annoyance/disgust (``cortisol_anger``) and
  spam (``cortisol_spam``).
* :math:`\bar v \leftarrow \bar v + \alpha (v - \bar v)` (``valence_alpha``), so only sustained
  positive chat lifts serotonin.

Everything is a closed-form function of (state, inputs, elapsed time): the same inputs give the
same state bit for bit, whatever the wall clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from companion.character.config import CHEMICALS, NeurochemConfig
from companion.character.stimulus import Stimulus

_MAX_HOLD_S = 1.0  # zero-order-hold step while the valence average still matters
_VALENCE_EPS = 1e-4


@dataclass(slots=True)
class NeuroState:
    """Levels in [0, 1], the slow valence average and the time (epoch s) they refer to."""

    levels: dict[str, float]
    valence_avg: float = 0.0
    t: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"levels": dict(self.levels), "valence_avg": self.valence_avg, "t": self.t}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "NeuroState":
        levels = {c: min(1.0, max(0.0, float(d["levels"][c]))) for c in CHEMICALS}
        return cls(levels=levels, valence_avg=float(d.get("valence_avg", 0.0)), t=float(d.get("t", 0.0)))


def _rise(c: float, g: float, s: float) -> float:
    return 1.0 - (1.0 - c) * math.exp(-g * s) if s > 0 else c


def _suppress(c: float, g: float, s: float) -> float:
    return c * math.exp(-g * s) if s > 0 else c


@dataclass(slots=True)
class Neurochemistry:
    """The mood ODE. ``advance(t)`` relaxes the state to time t; ``apply(stim, t)`` adds a message."""

    config: NeurochemConfig
    state: NeuroState = field(init=False)

    def __post_init__(self) -> None:
        self.state = NeuroState(levels=dict(self.config.baseline))

    def reset(self, t: float) -> None:
        self.state = NeuroState(levels={c: float(self.config.baseline[c]) for c in CHEMICALS}, t=t)

    def _step(self, h: float) -> None:
        """Exact solution over ``h`` seconds with the serotonin drive held constant."""
        cfg, st = self.config, self.state
        g = cfg.gain
        for chem in CHEMICALS:
            k = math.log(2.0) / float(cfg.half_life_s[chem])
            b = float(cfg.baseline[chem])
            u = w = 0.0
            if chem == "serotonin":
                u = g["serotonin_rate"] * max(0.0, st.valence_avg)
                w = g["serotonin_drain"] * max(0.0, -st.valence_avg)
            a = k + u + w
            c_inf = (k * b + u) / a
            st.levels[chem] = c_inf + (st.levels[chem] - c_inf) * math.exp(-a * h)
        st.valence_avg *= math.exp(-h / cfg.valence_tau_s)

    def advance(self, t: float) -> None:
        """Let the state evolve with no new input until time ``t`` (earlier times are ignored)."""
        dt = t - self.state.t
        if dt <= 0:
            return
        while dt > 0:
            h = dt if abs(self.state.valence_avg) < _VALENCE_EPS else min(dt, _MAX_HOLD_S)
            self._step(h)
            dt -= h
        self.state.t = t

    def apply(self, s: Stimulus, t: float) -> None:
        """Advance to ``t`` then apply one message's impulses."""
        self.advance(t)
        g, lv = self.config.gain, self.state.levels
        lv["dopamine"] = _rise(lv["dopamine"], g["dopamine_positive"], s.positive)
        lv["dopamine"] = _rise(lv["dopamine"], g["dopamine_hype"], s.hype)
        lv["dopamine"] = _suppress(lv["dopamine"], g["dopamine_negative"], s.negative)
        lv["oxytocin"] = _rise(lv["oxytocin"], g["oxytocin_warm"], s.warm)
        lv["oxytocin"] = _rise(lv["oxytocin"], g["oxytocin_event"], s.bond_event)
        lv["cortisol"] = _rise(lv["cortisol"], g["cortisol_toxic"], s.toxic)
        lv["cortisol"] = _rise(lv["cortisol"], g["cortisol_anger"], s.anger)
        lv["cortisol"] = _rise(lv["cortisol"], g["cortisol_spam"], s.spam)
        v = max(-1.0, min(1.0, s.valence))
        self.state.valence_avg += self.config.valence_alpha * (v - self.state.valence_avg)

    def nudge(self, chem: str, delta: float, t: float) -> None:
        """Shift one level by ``delta`` (clamped to [0, 1]); used by the MCP ``update_emotion`` tool."""
        if chem not in CHEMICALS:
            raise ValueError(f"unknown chemical {chem!r}; expected one of {CHEMICALS}")
        self.advance(t)
        self.state.levels[chem] = min(1.0, max(0.0, self.state.levels[chem] + float(delta)))

    def set_level(self, chem: str, value: float, t: float) -> None:
        """Set one level (clamped to [0, 1])."""
        if chem not in CHEMICALS:
            raise ValueError(f"unknown chemical {chem!r}; expected one of {CHEMICALS}")
        self.advance(t)
        self.state.levels[chem] = min(1.0, max(0.0, float(value)))
