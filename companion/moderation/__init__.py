"""Moderation like AutoMod, but explainable: per-category levels, actions, a review queue, and a
per-channel calibration learned from the channel's own moderators."""
from companion.moderation.decision import CalibrationNote, Decision
from companion.moderation.policy import ModerationPolicy
from companion.moderation.service import ModerationService

__all__ = ["CalibrationNote", "Decision", "ModerationPolicy", "ModerationService"]
