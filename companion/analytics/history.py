"""Fixed-width time bins (per minute for forecasts, per 10 s for anomaly baselines)."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Bin:
    """Counts for one bin of ``width_s`` seconds starting at ``t``."""

    t: int
    n: int = 0
    new: int = 0
    sent_sum: float = 0.0
    sent_n: int = 0
    toxic: int = 0
    scored: int = 0
    emotions: Counter = field(default_factory=Counter)

    @property
    def sentiment(self) -> float | None:
        return self.sent_sum / self.sent_n if self.sent_n else None

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "n": self.n, "new": self.new, "sent_sum": self.sent_sum, "sent_n": self.sent_n,
                "toxic": self.toxic, "scored": self.scored, "emotions": dict(self.emotions)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Bin":
        return cls(t=int(d["t"]), n=int(d.get("n", 0)), new=int(d.get("new", 0)),
                   sent_sum=float(d.get("sent_sum", 0.0)), sent_n=int(d.get("sent_n", 0)),
                   toxic=int(d.get("toxic", 0)), scored=int(d.get("scored", 0)),
                   emotions=Counter(d.get("emotions", {})))


class BinnedSeries:
    """Closed bins plus the open one. Quiet bins between messages are closed as zeros, up to
    ``max_gap_bins``; a longer gap (the stream was offline) is left as a gap, not zeros."""

    def __init__(self, width_s: int, maxlen: int, max_gap_bins: int = 60) -> None:
        self.width_s = width_s
        self.max_gap_bins = max_gap_bins
        self.closed: deque[Bin] = deque(maxlen=maxlen)
        self.open: Bin | None = None

    def _start(self, ts: float) -> int:
        return int(ts // self.width_s) * self.width_s

    def advance(self, now: float) -> None:
        """Close every bin that ended before ``now``."""
        start = self._start(now)
        if self.open is None or start <= self.open.t:
            return
        self.closed.append(self.open)
        gap = (start - self.open.t) // self.width_s - 1
        if gap <= self.max_gap_bins:
            for i in range(1, gap + 1):
                self.closed.append(Bin(t=self.open.t + i * self.width_s))
        self.open = None

    def current(self, ts: float) -> Bin:
        """The open bin for ``ts`` (opening it if needed); late input goes to the open bin."""
        self.advance(ts)
        if self.open is None:
            self.open = Bin(t=self._start(ts))
        return self.open

    def values(self, name: str) -> tuple[list[int], list[float | None]]:
        """Times and values of the closed bins: ``rate`` (per minute), ``sentiment``, ``toxicity``."""
        ts = [b.t for b in self.closed]
        scale = 60.0 / self.width_s
        if name == "rate":
            vals: list[float | None] = [b.n * scale for b in self.closed]
        elif name == "sentiment":
            vals = [b.sentiment for b in self.closed]
        elif name == "toxicity":
            vals = [b.toxic / b.scored if b.scored else None for b in self.closed]
        else:
            raise ValueError(f"unknown series {name!r}")
        return ts, vals

    def to_dict(self) -> dict[str, Any]:
        return {"width_s": self.width_s, "closed": [b.to_dict() for b in self.closed],
                "open": self.open.to_dict() if self.open else None}

    def load(self, d: dict[str, Any]) -> None:
        self.closed.extend(Bin.from_dict(x) for x in d.get("closed", []))
        self.open = Bin.from_dict(d["open"]) if d.get("open") else None
