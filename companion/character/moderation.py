"""The character engine's moderator: the decisions of :mod:`companion.moderation` (category
levels, the analyser's flag, repeat offenders, spam), turned into the suggestions a
recommendation carries. Suggestions only; the engine executes them solely with ``--moderate``.

Inside the full engine this is replaced by :class:`companion.moderation.ModerationService`
(same ``suggest`` signature), which also holds messages for review and learns from moderators.
"""
from __future__ import annotations

from companion.messages import ChatMessage
from companion.moderation.moderator import Moderator as _Core
from companion.moderation.policy import ModerationPolicy
from companion.moderation.service import suggestions_for
from companion.recommendation import ModerationSuggestion
from companion.records import AnalysisRecord


class Moderator:
    """Stand-alone moderator for a :class:`~companion.character.CharacterEngine` (no queue, no
    calibration, no execution)."""

    def __init__(self, config: ModerationPolicy) -> None:
        self.config = config
        self._core = _Core(config)

    def suggest(self, message: ChatMessage, record: AnalysisRecord | None, ts: float,
                spam_repeats: int = 0) -> list[ModerationSuggestion]:
        """Suggestions for one message (empty when it is fine)."""
        return suggestions_for(message, self._core.decide(message, record, ts, spam_repeats))
