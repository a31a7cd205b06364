"""Moderation suggestions (delete / timeout) with reasons. Suggestions only: the engine executes
one solely when it runs with ``moderate=True`` *and* the host gave it an executor callback.

* toxicity score >= ``delete_threshold`` (or flagged) -> ``delete``
* toxicity score >= ``timeout_threshold``, or the viewer's ``repeat_count``-th toxic message
  within ``repeat_window_s`` -> ``timeout``, duration escalating along ``timeout_s``
* spam: ``spam_timeout_count`` near-duplicates in the window -> ``timeout`` (first rung);
  fewer -> ``delete``
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from companion.character.config import ModerationConfig
from companion.messages import ChatMessage
from companion.recommendation import ModerationSuggestion
from companion.records import AnalysisRecord


@dataclass
class Moderator:
    config: ModerationConfig
    _offences: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _timeouts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def _timeout_s(self, viewer: str) -> int:
        ladder = self.config.timeout_s or [600]
        rung = min(self._timeouts[viewer], len(ladder) - 1)
        self._timeouts[viewer] += 1
        return int(ladder[rung])

    def suggest(self, message: ChatMessage, record: AnalysisRecord | None, ts: float,
                spam_repeats: int = 0) -> list[ModerationSuggestion]:
        """Suggestions for one message (empty when it is fine)."""
        cfg, viewer = self.config, message.viewer_key
        out: list[ModerationSuggestion] = []
        tox = record.toxicity if record is not None else None
        score = tox.score if tox is not None and tox.score is not None else None
        flagged = bool(tox is not None and tox.flagged)
        if flagged or (score is not None and score >= cfg.delete_threshold):
            hist = self._offences[viewer]
            while hist and ts - hist[0] > cfg.repeat_window_s:
                hist.popleft()
            hist.append(ts)
            label = tox.label if tox is not None and tox.label else "toxic"
            why = f"{label} message (toxicity {score:.2f})" if score is not None else f"{label} message (flagged)"
            out.append(ModerationSuggestion(message.id, message.user, "delete", why))
            if (score is not None and score >= cfg.timeout_threshold) or len(hist) >= cfg.repeat_count:
                reason = why if len(hist) < cfg.repeat_count else f"{len(hist)} toxic messages in {cfg.repeat_window_s:.0f}s"
                out.append(ModerationSuggestion(message.id, message.user, "timeout", reason, self._timeout_s(viewer)))
        elif spam_repeats:
            why = f"spam: {spam_repeats + 1} near-identical messages"
            if spam_repeats + 1 >= cfg.spam_timeout_count:
                out.append(ModerationSuggestion(message.id, message.user, "timeout", why, self._timeout_s(viewer)))
            else:
                out.append(ModerationSuggestion(message.id, message.user, "delete", why))
        return out
