"""Anomaly detection on one channel: hype spikes, raids, spam waves and toxicity surges.

Rates are compared with the channel's own recent past by robust z-scores (median and MAD, with a
Poisson floor so that a very regular chat does not make every wobble look huge). Every alert says
what was measured and against which baseline, so a moderator can judge it.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from companion.messages import ChatMessage, MessageKind
from companion.near_duplicates import NearDuplicateDetector

from .alerts import Alert, Moment
from .history import BinnedSeries
from .windows import ChannelWindows

Z_THRESHOLD = 4.0
MIN_BASELINE_BINS = 12  # two minutes of 10-second bins before rates are judged
COOLDOWN_S = 60.0
SPAM_MIN_MESSAGES = 6
TOXIC_MIN = 3
TOXIC_MIN_RATE = 0.15


def robust_z(x: float, baseline: Sequence[float], poisson_floor: bool = True) -> tuple[float, float]:
    """``(z, median)`` of ``x`` against ``baseline`` using the median and the scaled MAD."""
    med = statistics.median(baseline)
    mad = statistics.median(abs(b - med) for b in baseline) * 1.4826
    scale = max(mad, math.sqrt(max(med, 1.0))) if poisson_floor else max(mad, 1e-9)
    return (x - med) / scale, med


class AnomalyDetector:
    """Judges one channel's current 10 s / 60 s windows against its 10-second history."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        # 30 s, and lines of 8+ folded characters: shorter ones ("lol", a lone emote) repeat in hype.
        self.duplicates = NearDuplicateDetector(window_s=30.0, min_chars=8, per_viewer=0)
        self.last_fired: dict[str, float] = {}

    def _cool(self, kind: str, now: float) -> bool:
        if now - self.last_fired.get(kind, -math.inf) < COOLDOWN_S:
            return False
        self.last_fired[kind] = now
        return True

    def on_message(self, message: ChatMessage) -> list[Alert]:
        """Alerts that one message can raise by itself: a raid event, a spam wave."""
        alerts = []
        if message.kind == MessageKind.RAID:
            viewers = message.tags.get("msg-param-viewerCount") or message.tags.get("viewers")
            who = message.tags.get("msg-param-displayName") or message.user
            reason = f"raid from {who}" + (f" with {viewers} viewers" if viewers else "")
            if self._cool("raid", message.ts):
                alerts.append(Alert(message.ts, self.channel, "raid", reason, "info",
                                    value=float(viewers) if str(viewers or "").isdigit() else None))
        elif message.text:
            cluster = self.duplicates.observe(message.ts, message.viewer_key, message.text).cluster
            if cluster is not None and len(cluster.members) >= SPAM_MIN_MESSAGES:
                viewers = cluster.viewers
                if self._cool("spam_wave", message.ts):
                    reason = (f"{len(cluster.members)} near-duplicate messages from {viewers} viewer(s) "
                              f"in {int(self.duplicates.window_s)} s, like: {cluster.sample!r}")
                    alerts.append(Alert(message.ts, self.channel, "spam_wave", reason, "warning",
                                        value=float(len(cluster.members))))
        return alerts

    def check(self, now: float, windows: ChannelWindows, tens: BinnedSeries) -> list[Alert]:
        """Alerts on rates: compare the last 10 s / 60 s with the closed 10-second bins."""
        alerts: list[Alert] = []
        # Bins overlapping the current minute are left out of the baseline they are judged against.
        history = list(tens.closed)[:-6] if len(tens.closed) > MIN_BASELINE_BINS + 6 else list(tens.closed)
        msgs, new, _, _ = windows.counts(now, 10)
        if len(history) >= MIN_BASELINE_BINS:
            z, med = robust_z(msgs, [b.n for b in history])
            if z >= Z_THRESHOLD and msgs >= max(8, 2 * med):
                if self._cool("hype_spike", now):
                    alerts.append(Alert(now, self.channel, "hype_spike",
                                        f"{msgs} messages in 10 s vs a usual {med:g} (robust z={z:.1f})",
                                        "info", value=float(msgs), score=round(z, 2)))
            zn, medn = robust_z(new, [b.new for b in history])
            if zn >= Z_THRESHOLD and new >= 5 and self._cool("raid", now):
                alerts.append(Alert(now, self.channel, "raid",
                                    f"{new} first-time chatters in 10 s vs a usual {medn:g} (robust z={zn:.1f})",
                                    "info", value=float(new), score=round(zn, 2)))
        alerts.extend(self._toxicity(now, windows, history))
        return alerts

    def _toxicity(self, now: float, windows: ChannelWindows, history: list) -> list[Alert]:
        _, _, toxic, scored = windows.counts(now, 60)
        if toxic < TOXIC_MIN or scored == 0:
            return []
        # Pooled baseline rate with a weak 1 % prior, so an empty history is not a zero rate.
        p0 = (sum(b.toxic for b in history) + 0.5) / (sum(b.scored for b in history) + 50)
        rate = toxic / scored
        z = (toxic - scored * p0) / math.sqrt(scored * p0 * (1 - p0))
        if rate >= max(TOXIC_MIN_RATE, 3 * p0) and z >= 3.0 and self._cool("toxicity_surge", now):
            severity = "critical" if rate >= 0.5 else "warning"
            return [Alert(now, self.channel, "toxicity_surge",
                          f"{toxic} of {scored} messages flagged toxic in the last 60 s ({rate:.0%}, usual {p0:.1%})",
                          severity, value=round(rate, 3), score=round(z, 2))]
        return []


def moment_for(alert: Alert) -> Moment | None:
    """A clip-worthy moment for hype spikes and raids: from 30 s before to 15 s after."""
    if alert.kind not in ("hype_spike", "raid"):
        return None
    return Moment(ts=alert.ts, channel=alert.channel, label=alert.label, reason=alert.reason,
                  score=float(alert.score or alert.value or 1.0), start=alert.ts - 30.0, end=alert.ts + 15.0)
