"""Per-channel calibration on top of the shared toxicity head, learned online from the
channel's own moderators (river logistic regression over the category scores, target and score).

The model answers "would this channel's moderators remove this message?". Once it has
``min_examples`` examples with both labels, it can raise an ``allow`` to ``act_action`` (the
channel removes something the default allows) or lower a ``hold``/``delete`` to ``allow`` (the
channel tolerates it); timeouts are never relaxed. The decision records the change.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

from river import linear_model, optim

from companion.moderation.decision import CalibrationNote, Decision
from companion.moderation.feedback import LabelledExample
from companion.moderation.policy import SEVERITY, CalibrationSettings


def _new_model(lr: float) -> linear_model.LogisticRegression:
    return linear_model.LogisticRegression(optimizer=optim.SGD(lr), intercept_lr=lr, l2=0.0)


@dataclass
class ChannelCalibration:
    model: linear_model.LogisticRegression
    removed: float = 0.0  # summed weights per label
    kept: float = 0.0
    examples: int = 0
    sources: dict[str, int] = field(default_factory=dict)

    def ready(self, settings: CalibrationSettings) -> bool:
        return self.examples >= settings.min_examples and self.removed > 0 and self.kept > 0


class Calibrator:
    """One :class:`ChannelCalibration` per channel; thread-safe."""

    def __init__(self, settings: CalibrationSettings) -> None:
        self.settings = settings
        self.channels: dict[str, ChannelCalibration] = {}
        self._lock = threading.Lock()

    def learn(self, example: LabelledExample) -> None:
        """Update the example's channel with one labelled example."""
        with self._lock:
            cal = self.channels.get(example.channel)
            if cal is None:
                cal = self.channels[example.channel] = ChannelCalibration(_new_model(self.settings.learning_rate))
            # No class re-weighting: p(removed) keeps the channel's own base rate, so "act when
            # p >= act_above" means "more likely removed than kept here".
            cal.model.learn_one(example.features, bool(example.removed), w=float(example.weight))
            cal.examples += 1
            if example.removed:
                cal.removed += example.weight
            else:
                cal.kept += example.weight
            cal.sources[example.source] = cal.sources.get(example.source, 0) + 1

    def p_removed(self, channel: str, features: dict[str, float]) -> tuple[float, int] | None:
        """``(p, examples)`` when the channel's calibration is ready, else None."""
        with self._lock:
            cal = self.channels.get(channel)
            if cal is None or not cal.ready(self.settings):
                return None
            return float(cal.model.predict_proba_one(features).get(True, 0.0)), cal.examples

    def adjust(self, channel: str, features: dict[str, float], decision: Decision) -> Decision:
        """``decision`` as this channel's calibration changes it (unchanged when not ready)."""
        if not self.settings.enabled:
            return decision
        got = self.p_removed(channel, features)
        if got is None:
            return decision
        p, n = got
        s = self.settings
        base = decision.action
        note = CalibrationNote(channel=channel, p_removed=round(p, 4), examples=n, base_action=base, changed=False)
        if p >= s.act_above and SEVERITY[base] < SEVERITY[s.act_action]:
            note.changed = True
            return dataclasses.replace(
                decision, action=s.act_action, rule="calibration", calibration=note,
                reason=f"this channel's moderators remove messages like this (p={p:.2f} >= {s.act_above:.2f}, "
                       f"learned from {n} of their actions); the default policy would {base}")
        if p < s.relax_below and base in ("hold", "delete"):
            note.changed = True
            return dataclasses.replace(
                decision, action="allow", rule="calibration", calibration=note,
                reason=f"this channel's moderators leave messages like this (p={p:.2f} < {s.relax_below:.2f}, "
                       f"learned from {n} of their actions); the default policy would {base}: {decision.reason}")
        return dataclasses.replace(decision, calibration=note)

    def channel_thresholds(self, channel: str, target: str = "person") -> dict[str, float | None]:
        """The score at which this channel's calibration starts to act on a message with one
        category at that score (aimed at ``target``), per category; None when it never does
        below 1.0. The per-channel counterpart of the policy's level thresholds."""
        from companion.records import TOXICITY_CATEGORIES, TOXICITY_TARGETS

        with self._lock:
            cal = self.channels.get(channel)
            if cal is None or not cal.ready(self.settings):
                return {}
            model = cal.model
        out: dict[str, float | None] = {}
        for cat in TOXICITY_CATEGORIES:
            def p(s: float) -> float:
                x = {f"cat_{c}": (s if c == cat else 0.0) for c in TOXICITY_CATEGORIES}
                x.update({f"target_{t}": 1.0 if t == target else 0.0 for t in TOXICITY_TARGETS})
                x.update(score=s, flagged=0.0)
                return float(model.predict_proba_one(x).get(True, 0.0))

            if p(1.0) < self.settings.act_above:
                out[cat] = None
                continue
            lo, hi = 0.0, 1.0
            for _ in range(20):  # p rises with s for a positive weight: bisect for act_above
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if p(mid) < self.settings.act_above else (lo, mid)
            out[cat] = round(hi, 3)
        return out

    def summary(self) -> dict[str, dict]:
        with self._lock:
            return {ch: {"examples": c.examples, "removed": round(c.removed, 2), "kept": round(c.kept, 2),
                         "ready": c.ready(self.settings), "sources": dict(c.sources),
                         "weights": {k: round(v, 4) for k, v in c.model.weights.items()},
                         "intercept": round(float(c.model.intercept), 4)}
                    for ch, c in self.channels.items()}

    def summary_with_thresholds(self) -> dict[str, dict]:
        """:meth:`summary` plus each ready channel's :meth:`channel_thresholds`."""
        out = self.summary()
        for ch, d in out.items():
            if d["ready"]:
                d["act_thresholds"] = self.channel_thresholds(ch)
        return out
