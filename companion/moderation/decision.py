"""An explainable moderation decision: what to do with one message, and exactly why."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class CalibrationNote:
    """How the channel's calibration (learned from its own moderators) changed a decision."""

    channel: str
    p_removed: float  # the calibrated probability that this channel's moderators remove it
    examples: int  # labelled examples behind the calibration
    base_action: str  # what the shared policy alone would have done
    changed: bool


@dataclass(slots=True)
class Decision:
    """``action`` is allow | hold | delete | timeout. ``category``/``score``/``threshold``/``level``
    name the rule that fired (None for allow or a non-category rule such as spam)."""

    action: str = "allow"
    category: str | None = None
    score: float | None = None
    threshold: float | None = None
    level: int | None = None
    reason: str = ""
    duration_s: int | None = None
    rule: str = "none"  # category | flagged | repeat | spam | calibration | none
    calibration: CalibrationNote | None = None
    scores: dict[str, float] = field(default_factory=dict)  # the category vector judged
    target: str | None = None

    @property
    def acts(self) -> bool:
        return self.action != "allow"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Decision":
        d = dict(d)
        cal = d.pop("calibration", None)
        return cls(**d, calibration=CalibrationNote(**cal) if cal else None)
