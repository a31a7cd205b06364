"""Typed alerts and clip-worthy moments produced by the anomaly detectors."""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

_ids = itertools.count(1)

# Kinds an alert can have, with the human label shown on the dashboard.
LABELS: dict[str, str] = {
    "hype_spike": "Hype spike",
    "raid": "Raid",
    "spam_wave": "Spam wave",
    "toxicity_surge": "Toxicity surge",
}


@dataclass(slots=True)
class Alert:
    """One anomaly. ``to_dict`` is the ``alerts`` bus payload (ARCHITECTURE.md) plus extras."""

    ts: float
    channel: str
    kind: str
    reason: str
    severity: str = "info"  # info | warning | critical
    value: float | None = None
    score: float | None = None  # robust z-score (or equivalent) that fired the alert
    id: str = field(default_factory=lambda: f"alert-{next(_ids)}")

    @property
    def label(self) -> str:
        return LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["label"] = self.label
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Alert":
        return cls(**{k: d[k] for k in ("ts", "channel", "kind", "reason", "severity", "value", "score", "id") if k in d})


@dataclass(slots=True)
class Moment:
    """A stretch of stream worth clipping: ``start``..``end`` around the peak at ``ts``."""

    ts: float
    channel: str
    label: str
    reason: str
    score: float
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Moment":
        return cls(**d)
