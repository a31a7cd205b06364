"""The one moderation decision per message: category levels, the analyser's flag, the channel's
calibration, repeat offenders (escalate to a timeout along the ``timeout_s`` ladder) and spam."""
from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict, deque

from companion.messages import ChatMessage
from companion.moderation.calibration import Calibrator
from companion.moderation.decision import Decision
from companion.moderation.features import ToxicityView, record_features, view_of
from companion.moderation.levels import category_decision
from companion.moderation.policy import SEVERITY, ModerationPolicy
from companion.records import AnalysisRecord


class Moderator:
    """Decides; never executes. ``calibrator`` (optional) adapts decisions per channel."""

    def __init__(self, policy: ModerationPolicy, calibrator: Calibrator | None = None) -> None:
        self.policy = policy
        self.calibrator = calibrator
        self._offences: dict[str, deque] = defaultdict(deque)
        self._timeouts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def _timeout_s(self, viewer: str) -> int:
        ladder = self.policy.timeout_s
        rung = min(self._timeouts[viewer], len(ladder) - 1)
        self._timeouts[viewer] += 1
        return int(ladder[rung])

    def decide(self, message: ChatMessage, record: AnalysisRecord | None, ts: float,
               spam_repeats: int = 0) -> Decision:
        """The decision for one message (``allow`` when it is fine)."""
        view = view_of(record.toxicity if record is not None else None)
        return self.decide_view(message, view, record_features(record), ts, spam_repeats)

    def decide_view(self, message: ChatMessage, view: ToxicityView, features: dict[str, float], ts: float,
                    spam_repeats: int = 0) -> Decision:
        """:meth:`decide` on an already extracted view and calibration features."""
        decision = self.judge(message.channel, view, features)
        with self._lock:
            return self._with_history(message.viewer_key, decision, ts, spam_repeats)

    def judge(self, channel: str, view: ToxicityView, features: dict[str, float] | None = None) -> Decision:
        """Stateless part: the policy on the category vector, the analyser's flag, calibration
        (on ``features``, :func:`~companion.moderation.features.record_features`; default: the
        view's own vector)."""
        policy = self.policy
        decision = category_decision(policy, view)
        if view.flagged and SEVERITY[decision.action] < SEVERITY["delete"] and view.derived:
            # No category vector from the head: its flag ("a moderator would act") is the signal.
            decision = dataclasses.replace(
                decision, action="delete", rule="flagged", score=round(view.score, 4), category=None,
                reason=f"{view.label or 'toxic'} message (toxicity {view.score:.2f}), flagged by the analyser")
        elif view.flagged and decision.action == "allow" and policy.flagged_unmatched == "hold":
            decision = dataclasses.replace(
                decision, action="hold", rule="flagged", score=round(view.score, 4),
                reason=f"flagged by the analyser (toxicity {view.score:.2f}) but no category is over its "
                       "level's threshold: held for review")
        if self.calibrator is not None:
            decision = self.calibrator.adjust(channel, features if features is not None else view.vector(), decision)
        return decision

    def _with_history(self, viewer: str, decision: Decision, ts: float, spam_repeats: int) -> Decision:
        policy = self.policy
        if SEVERITY[decision.action] >= SEVERITY["delete"]:
            hist = self._offences[viewer]
            while hist and ts - hist[0] > policy.repeat_window_s:
                hist.popleft()
            hist.append(ts)
            if decision.action == "delete" and len(hist) >= policy.repeat_count:
                decision = dataclasses.replace(
                    decision, action="timeout", rule="repeat",
                    reason=f"{len(hist)} removed messages in {policy.repeat_window_s:.0f}s; last: {decision.reason}")
        elif decision.action == "allow" and spam_repeats:
            n = spam_repeats + 1
            action = "timeout" if n >= policy.spam_timeout_count else "delete"
            decision = dataclasses.replace(decision, action=action, rule="spam",
                                           reason=f"spam: {n} near-identical messages")
        if decision.action == "timeout":
            decision = dataclasses.replace(decision, duration_s=self._timeout_s(viewer))
        return decision
