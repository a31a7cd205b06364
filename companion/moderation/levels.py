"""Level -> action: which action a category's score earns at the category's level."""
from __future__ import annotations

from companion.moderation.decision import Decision
from companion.moderation.features import ToxicityView
from companion.moderation.policy import SEVERITY, ModerationPolicy

_ACTION_VERB = {"hold": "held for review", "delete": "deleted", "timeout": "timed out"}


def action_for(policy: ModerationPolicy, category: str, score: float) -> tuple[str, float | None, int]:
    """``(action, threshold, level)`` for one category score: the most severe action whose
    threshold ``score`` reaches at that category's level (``allow`` and None when none does)."""
    level = policy.level_of(category)
    if level <= 0:
        return "allow", None, level
    rules = policy.rules_for(level)
    for action in ("timeout", "delete", "hold"):
        threshold = getattr(rules, action)
        if threshold is not None and score >= threshold:
            return action, threshold, level
    return "allow", None, level


def category_decision(policy: ModerationPolicy, view: ToxicityView) -> Decision:
    """The policy's decision on the category vector alone (no history, no calibration)."""
    best = Decision(action="allow", scores=dict(view.scores), target=view.target,
                    reason="no category over its level's threshold")
    for category, score in view.scores.items():
        if category in policy.needs_target and view.target == "none":
            continue  # e.g. swearing at no one: never acted on by itself
        action, threshold, level = action_for(policy, category, score)
        if action == "allow":
            continue
        margin = score - (threshold or 0.0)
        if (SEVERITY[action], margin) > (SEVERITY[best.action], (best.score or 0.0) - (best.threshold or 0.0)):
            target = f", aimed at a {view.target}" if view.target in ("person", "group") else ""
            derived = f" (from the {view.label or 'toxicity'} score)" if view.derived else ""
            best = Decision(
                action=action, category=category, score=round(score, 4), threshold=threshold, level=level,
                rule="category", scores=dict(view.scores), target=view.target,
                reason=f"{category.replace('_', ' ')} {score:.2f}{derived} >= {threshold:.2f}, "
                       f"the {action} threshold at level {level}{target}: {_ACTION_VERB[action]}")
    return best
