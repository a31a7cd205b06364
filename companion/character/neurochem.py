r"""The companion's neurochemistry: four levels in [0, 1] driven by the *mix* of chat's affect.

State: dopamine (DA), serotonin (SE), cortisol (CO), oxytocin (OX), plus two
:class:`AffectMix` accumulators over recent chat (a fast one, time constant :math:`\tau_f`
``fast_tau_s``, and a slow one, :math:`\tau_s` ``slow_tau_s``).

**Affect mix, not volume.** Each message contributes its affect terms :math:`x_j \in [0, 1]`
(see :mod:`.stimulus`) to exponentially weighted sums :math:`S_j` and a weight :math:`W`:

.. math::

    S_j \leftarrow S_j + x_j,\quad W \leftarrow W + 1\ \text{at a message};\qquad
    S_j, W \propto e^{-t/\tau}\ \text{between messages}

so :math:`m_j = S_j / W` is the time-weighted *mean* affect of recent chat (independent of how
many messages there were) and :math:`\hat r = W / \tau` estimates the message rate (msgs/s).
Activity saturates in the rate, :math:`a(\hat r) = \hat r / (\hat r + r_{1/2})`
(``rate_half_msgs_s``): a busy chat is livelier than a slow one, but no amount of volume drives a
level to its ceiling by itself.

**Drives.** Every level relaxes to its baseline :math:`b_c` with half-life :math:`T_c`
(:math:`k_c = \ln 2 / T_c`) and is pushed up by :math:`u_c` and down by :math:`w_c` (per second):

.. math::

    \frac{dc}{dt} = -k_c (c - b_c) + u_c (1 - c) - w_c\, c

* DA: :math:`u = a_f (g_{pos} m_{pos} + g_{hype} m_{hype})`, :math:`w = a_f\, g_{neg} m_{neg}`
* OX: :math:`u = a_f\, g_{warm} m_{warm}`
* CO: :math:`u = a_f (g_{tox} m_{tox} + g_{anger} m_{anger} + g_{spam} m_{spam})`

where a term with a ``tolerance`` :math:`\sigma_j` uses its excess :math:`(m_j - \sigma_j)_+ / (1 - \sigma_j)`
instead of :math:`m_j`: some repetition and some grumbling are ordinary chat; only what dominates
the mix counts.
* SE: :math:`u = a_f\, r \max(0, \bar v)`, :math:`w = a_f\, q \max(0, -\bar v)` with
  :math:`\bar v` the slow mix's mean valence, so only sustained positive chat lifts serotonin
  (activity is always the fast mix's: a quiet lull drives nothing, whatever the last hour was like).

Between messages the means are constant and only :math:`W` decays, so the drives fade as chat goes
quiet. Holding :math:`u, w` at their mid-step value over a step h (at most ``_MAX_HOLD_S`` while a
drive is non-negligible) the linear ODE has the exact solution

.. math::

    a = k + u + w,\quad c_\infty = \frac{k b + u}{a},\quad c(t+h) = c_\infty + (c(t) - c_\infty) e^{-a h}

which stays in [0, 1] because :math:`c_\infty \in [0, 1]` and the step is a convex combination.
With no drive it is the pure exponential decay :math:`c(t) = b + (c_0 - b)\,2^{-t/T}`.

**Events** are saturating impulses, the exact solution of :math:`dc/dt = g s\,\delta(t - t_i)(1 - c)`:
:math:`c^+ = 1 - (1 - c^-) e^{-g s}`. Raids, subs and bits lift DA and OX; an insult aimed at the
character and the onset of a *toxic wave* (the fast mix's toxic mean crossing ``wave_on``; re-armed
below ``wave_off``) lift CO.

Everything is a closed-form function of (state, inputs, elapsed time): the same inputs give the
same state bit for bit, whatever the wall clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from companion.character.config import CHEMICALS, NeurochemConfig
from companion.character.stimulus import MIX_TERMS, Stimulus

_MAX_HOLD_S = 1.0  # hold step while a drive still matters
_WEIGHT_EPS = 1e-3  # below this many (decayed) messages the mix no longer drives anything


@dataclass(slots=True)
class AffectMix:
    """Exponentially weighted sums of per-message affect; ``mean`` is the mix, ``rate`` the volume."""

    tau_s: float
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MIX_TERMS, 0.0))
    weight: float = 0.0

    def decay(self, h: float) -> None:
        f = math.exp(-h / self.tau_s)
        for k in self.sums:
            self.sums[k] *= f
        self.weight *= f

    def add(self, values: dict[str, float]) -> None:
        for k in MIX_TERMS:
            self.sums[k] += values[k]
        self.weight += 1.0

    def mean(self, term: str) -> float:
        return self.sums[term] / self.weight if self.weight > _WEIGHT_EPS else 0.0

    def rate(self, h: float = 0.0) -> float:
        """Estimated messages per second, ``h`` seconds from now if nothing else arrives."""
        return self.weight * math.exp(-h / self.tau_s) / self.tau_s

    def to_dict(self) -> dict[str, Any]:
        return {"sums": dict(self.sums), "weight": self.weight}

    def load(self, d: dict[str, Any]) -> None:
        self.sums = {k: float(d.get("sums", {}).get(k, 0.0)) for k in MIX_TERMS}
        self.weight = max(0.0, float(d.get("weight", 0.0)))


@dataclass(slots=True)
class NeuroState:
    """Levels in [0, 1], the two affect mixes, the toxic-wave latch and the time (epoch s)."""

    levels: dict[str, float]
    fast: AffectMix
    slow: AffectMix
    wave_armed: bool = True
    t: float = 0.0

    @property
    def valence_avg(self) -> float:
        """Mean valence of the slow mix (-1..1), the serotonin drive."""
        return self.slow.mean("valence")

    def to_dict(self) -> dict[str, Any]:
        return {"levels": dict(self.levels), "fast": self.fast.to_dict(), "slow": self.slow.to_dict(),
                "wave_armed": self.wave_armed, "t": self.t}

    @classmethod
    def from_dict(cls, d: dict[str, Any], cfg: NeurochemConfig) -> "NeuroState":
        levels = {c: min(1.0, max(0.0, float(d["levels"][c]))) for c in CHEMICALS}
        st = cls(levels=levels, fast=AffectMix(cfg.fast_tau_s), slow=AffectMix(cfg.slow_tau_s),
                 wave_armed=bool(d.get("wave_armed", True)), t=float(d.get("t", 0.0)))
        st.fast.load(d.get("fast", {}))
        st.slow.load(d.get("slow", {}))
        return st


def _rise(c: float, g: float, s: float) -> float:
    return 1.0 - (1.0 - c) * math.exp(-g * s) if s > 0 else c


def activity(rate: float, half: float) -> float:
    """Saturating activity in [0, 1) from a message rate: 0.5 at ``half`` msgs/s."""
    return rate / (rate + half) if rate > 0 else 0.0


@dataclass(slots=True)
class Neurochemistry:
    """The mood ODE. ``advance(t)`` evolves the state to time t; ``apply(stim, t)`` adds a message."""

    config: NeurochemConfig
    state: NeuroState = field(init=False)

    def __post_init__(self) -> None:
        self.reset(0.0)

    def reset(self, t: float) -> None:
        cfg = self.config
        self.state = NeuroState(levels={c: float(cfg.baseline[c]) for c in CHEMICALS},
                                fast=AffectMix(cfg.fast_tau_s), slow=AffectMix(cfg.slow_tau_s), t=t)

    def drives(self, h: float = 0.0) -> dict[str, tuple[float, float]]:
        """``(u, w)`` per chemical, ``h`` seconds from the state's time with no new messages."""
        g, st, half = self.config.gain, self.state, self.config.rate_half_msgs_s
        af = activity(st.fast.rate(h), half)  # how busy chat is now; the slow mix gives only its mood
        m, v = self.excess, st.slow.mean("valence")
        return {
            "dopamine": (af * (g["dopamine_positive"] * m("positive") + g["dopamine_hype"] * m("hype")),
                         af * g["dopamine_negative"] * m("negative")),
            "serotonin": (af * g["serotonin_rate"] * max(0.0, v), af * g["serotonin_drain"] * max(0.0, -v)),
            "cortisol": (af * (g["cortisol_toxic"] * m("toxic") + g["cortisol_anger"] * m("anger")
                               + g["cortisol_spam"] * m("spam")), 0.0),
            "oxytocin": (af * g["oxytocin_warm"] * m("warm"), 0.0),
        }

    def excess(self, term: str) -> float:
        """The fast mix's mean of ``term`` above its ``tolerance`` (0 when none is set), rescaled to
        [0, 1]: some repetition and some grumbling are ordinary chat; only what dominates it counts."""
        tol = float(self.config.tolerance.get(term, 0.0))
        m = self.state.fast.mean(term)
        return max(0.0, m - tol) / (1.0 - tol) if tol < 1.0 else 0.0

    def _step(self, h: float) -> None:
        """Exact solution over ``h`` seconds with the drives held at their mid-step value."""
        cfg, st = self.config, self.state
        drive = self.drives(h / 2.0)
        for chem in CHEMICALS:
            k = math.log(2.0) / float(cfg.half_life_s[chem])
            b = float(cfg.baseline[chem])
            u, w = drive[chem]
            a = k + u + w
            c_inf = (k * b + u) / a
            st.levels[chem] = c_inf + (st.levels[chem] - c_inf) * math.exp(-a * h)
        st.fast.decay(h)
        st.slow.decay(h)

    def advance(self, t: float) -> None:
        """Let the state evolve with no new input until time ``t`` (earlier times are ignored)."""
        dt = t - self.state.t
        if dt <= 0:
            return
        while dt > 0:
            quiet = self.state.fast.weight < _WEIGHT_EPS and self.state.slow.weight < _WEIGHT_EPS
            h = dt if quiet else min(dt, _MAX_HOLD_S)
            self._step(h)
            dt -= h
        self.state.t = t

    def apply(self, s: Stimulus, t: float) -> None:
        """Advance to ``t``, add one message to the affect mix, then apply its event impulses."""
        self.advance(t)
        cfg, st, lv = self.config, self.state, self.state.levels
        values = s.mix_values()
        st.fast.add(values)
        st.slow.add(values)
        ev = cfg.event_gain
        lv["dopamine"] = _rise(lv["dopamine"], ev["dopamine_hype"], s.event_hype)
        lv["oxytocin"] = _rise(lv["oxytocin"], ev["oxytocin_bond"], s.bond_event)
        lv["cortisol"] = _rise(lv["cortisol"], ev["cortisol_insult"], s.insult)
        share = st.fast.mean("toxic")
        if st.wave_armed and share >= cfg.wave_on and st.fast.weight >= cfg.wave_min_messages:
            lv["cortisol"] = _rise(lv["cortisol"], ev["cortisol_wave"], 1.0)
            st.wave_armed = False
        elif not st.wave_armed and share < cfg.wave_off:
            st.wave_armed = True

    def impulse(self, chem: str, strength: float, t: float) -> None:
        """A saturating push of one level: up for ``strength`` > 0, down (``c e^{-|s|}``) below 0."""
        if chem not in CHEMICALS:
            raise ValueError(f"unknown chemical {chem!r}; expected one of {CHEMICALS}")
        self.advance(t)
        c = self.state.levels[chem]
        self.state.levels[chem] = _rise(c, 1.0, strength) if strength > 0 else c * math.exp(strength)

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
