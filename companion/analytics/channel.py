"""Everything the analytics keep for one channel, in the channel's event time."""
from __future__ import annotations

from collections import deque
from typing import Any, Callable

from companion.lru import LruSet
from companion.messages import ChatMessage, MessageKind
from companion.records import AnalysisRecord

from .alerts import Alert, Moment
from .anomalies import AnomalyDetector, moment_for
from .engagement import EngagementTracker
from .history import BinnedSeries
from .windows import ChannelWindows

MINUTES_KEPT = 3 * 24 * 60
TENS_KEPT = 180  # 30 minutes of 10-second bins
MAX_SEEN = 200_000


class ChannelAnalytics:
    """Windows, history, engagement and anomaly state of one channel.

    Time is the messages' own time (so a replay of old chat gives the right rates), carried
    forward by the injected wall clock between messages (so windows empty when chat goes quiet).
    """

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        self.name = name
        self.clock = clock
        self.windows = ChannelWindows()
        self.minutes = BinnedSeries(60, MINUTES_KEPT)
        self.tens = BinnedSeries(10, TENS_KEPT, max_gap_bins=TENS_KEPT)
        self.engagement = EngagementTracker()
        self.detector = AnomalyDetector(name)
        # Bounded LRU: "new" means not seen among the last MAX_SEEN distinct chatters here (a
        # capped set would call every viewer new forever once full).
        self.seen: LruSet[str] = LruSet(MAX_SEEN)
        self.total_messages = 0
        self.alerts: deque[Alert] = deque(maxlen=100)
        self.moments: deque[Moment] = deque(maxlen=50)
        self.last_event_ts: float | None = None
        self.last_event_clock = 0.0

    def now(self) -> float:
        """Current event time of the channel."""
        if self.last_event_ts is None:
            return self.clock()
        return self.last_event_ts + max(0.0, self.clock() - self.last_event_clock)

    def add(self, message: ChatMessage, record: AnalysisRecord) -> list[Alert]:
        """Count one message; returns alerts it raised on its own (raid event, spam wave)."""
        ts = message.ts if self.last_event_ts is None else max(message.ts, self.last_event_ts - 300)
        if self.last_event_ts is None or ts >= self.last_event_ts:
            self.last_event_ts, self.last_event_clock = ts, self.clock()
        key = message.viewer_key
        is_new = not self.seen.touch(key) or message.first_message
        bucket = self.windows.bucket_for(ts)
        before = bucket.messages
        bucket.add(message, record, is_new)
        counted = bucket.messages > before
        self.total_messages += int(counted)
        for series in (self.minutes, self.tens):
            b = series.current(ts)
            b.new += int(is_new)
            if counted:
                b.n += 1
                if record.sentiment is not None and record.sentiment.score is not None:
                    b.sent_sum += float(record.sentiment.score)
                    b.sent_n += 1
                if record.toxicity is not None and (record.toxicity.score is not None or record.toxicity.flagged):
                    b.scored += 1
                    b.toxic += int(bool(record.toxicity.flagged))
                if record.ekman is not None and record.ekman.label:
                    b.emotions[record.ekman.label] += 1
        self.engagement.add(message)
        if message.kind == MessageKind.MESSAGE or message.kind == MessageKind.RAID:
            return self._keep(self.detector.on_message(message))
        return []

    def check(self) -> list[Alert]:
        """Advance time and judge the current rates."""
        now = self.now()
        self.minutes.advance(now)
        self.tens.advance(now)
        self.windows.trim(now)
        return self._keep(self.detector.check(now, self.windows, self.tens))

    def _keep(self, alerts: list[Alert]) -> list[Alert]:
        for a in alerts:
            self.alerts.append(a)
            m = moment_for(a)
            if m is not None:
                if self.moments and abs(self.moments[-1].ts - m.ts) < 30:
                    if m.score > self.moments[-1].score:
                        self.moments[-1] = m
                else:
                    self.moments.append(m)
        return alerts

    def forget(self, viewer: str) -> bool:
        """Drop what identifies ``viewer`` (engagement, seen set, window buckets)."""
        found = self.engagement.forget(viewer)
        found |= viewer in self.seen
        self.seen.discard(viewer)
        for b in self.windows.buckets:
            found |= b.viewers.pop(viewer, None) is not None
            b.names.pop(viewer, None)
            b.new_viewers.discard(viewer)
            b.viewer_events.pop(viewer, None)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": self.windows.to_list(), "minutes": self.minutes.to_dict(), "tens": self.tens.to_dict(),
            "engagement": self.engagement.to_list(), "seen": list(self.seen), "total_messages": self.total_messages,
            "alerts": [a.to_dict() for a in self.alerts], "moments": [m.to_dict() for m in self.moments],
            "last_event_ts": self.last_event_ts,
        }

    def load(self, d: dict[str, Any]) -> None:
        self.windows = ChannelWindows.from_list(d.get("windows", []))
        self.minutes.load(d.get("minutes", {}))
        self.tens.load(d.get("tens", {}))
        self.engagement.load(d.get("engagement", []))
        self.seen = LruSet(MAX_SEEN, d.get("seen", []))  # saved oldest first
        self.total_messages = int(d.get("total_messages", 0))
        self.alerts.extend(Alert.from_dict(a) for a in d.get("alerts", []))
        self.moments.extend(Moment.from_dict(m) for m in d.get("moments", []))
        # After a restart, event time resumes from the wall clock, not from the last message.
        self.last_event_ts = None
