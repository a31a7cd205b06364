"""Time phrases in memory questions: "yesterday", "last week", "in March", "3 days ago",
"last stream", "when did ...". A phrase becomes a time window that retrieval prefers (the store
fills the rest of the list from outside the window, so a wrong guess never empties a search);
"when did" marks a question whose answer is a time, so hits are returned with their timestamps.

Calendar phrases are read in UTC; "last stream" needs the channel's message times and is
resolved by the store (:func:`last_stream_window`).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

DAY = 86400.0
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m and m.lower() != "may"})
_WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
_UNIT = {"day": DAY, "week": 7 * DAY, "month": 30 * DAY, "year": 365 * DAY}

_AGO = re.compile(r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)\s+"
                  r"(day|week|month|year)s?\s+ago\b", re.I)
_MONTH = re.compile(r"\b(?:in|during|back in|on|since)\s+(" + "|".join(sorted(_MONTHS, key=len, reverse=True))
                    + r")\b\.?", re.I)
_LAST_STREAM = re.compile(r"\b(?:last|previous|yesterday'?s|the other)\s+(?:stream|broadcast|live ?stream|vod)\b", re.I)
_WHEN = re.compile(r"^\s*(?:when|what (?:day|date|time|month|year))\b", re.I)


@dataclass(slots=True)
class TimeQuery:
    since: float | None = None
    until: float | None = None
    phrase: str = ""  # the matched phrase, removed from the query's lexical terms
    last_stream: bool = False  # resolved by the store from the channel's message times
    asks_when: bool = False

    @property
    def window(self) -> bool:
        return self.since is not None or self.until is not None or self.last_stream


def _day_start(ts: float) -> float:
    d = datetime.fromtimestamp(ts, timezone.utc)
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()


def parse_time(query: str, now: float) -> TimeQuery:
    """The time window a question names, relative to ``now`` (epoch seconds)."""
    q = query.lower()
    out = TimeQuery(asks_when=bool(_WHEN.search(q)))
    today = _day_start(now)
    m = _LAST_STREAM.search(q)
    if m:
        out.last_stream, out.phrase = True, m.group(0)
        return out
    m = _AGO.search(q)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUM[m.group(1).lower()]
        unit = _UNIT[m.group(2).lower()]
        centre = now - n * unit
        half = max(unit / 2, DAY)
        out.since, out.until, out.phrase = centre - half, centre + half, m.group(0)
        return out
    for phrase, since, until in (
            ("day before yesterday", today - 2 * DAY, today - DAY),
            ("yesterday", today - DAY, today),
            ("last night", today - DAY + 0.5 * DAY, today + 0.25 * DAY),
            ("earlier today", today, now), ("today", today, now), ("tonight", today, now),
            ("this morning", today, today + 0.5 * DAY),
            ("last week", today - 7 * DAY - datetime.fromtimestamp(today, timezone.utc).weekday() * DAY,
             today - datetime.fromtimestamp(today, timezone.utc).weekday() * DAY),
            ("this week", today - datetime.fromtimestamp(today, timezone.utc).weekday() * DAY, now),
            ("recently", now - 7 * DAY, now), ("the other day", now - 5 * DAY, now - DAY)):
        if re.search(r"\b" + phrase + r"\b", q):
            out.since, out.until, out.phrase = since, until, phrase
            return out
    d = datetime.fromtimestamp(now, timezone.utc)
    if re.search(r"\blast month\b", q):
        y, mo = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
        out.since, out.until = _month_window(y, mo)
        out.phrase = "last month"
        return out
    if re.search(r"\bthis month\b", q):
        out.since, out.until, out.phrase = _month_window(d.year, d.month)[0], now, "this month"
        return out
    m = _MONTH.search(q)
    if m:
        mo = _MONTHS[m.group(1).lower().rstrip(".")]
        y = d.year if mo <= d.month else d.year - 1  # the most recent such month
        out.since, out.until = _month_window(y, mo)
        out.phrase = m.group(0)
        return out
    m = re.search(r"\b(?:last|on)\s+(" + "|".join(_WEEKDAYS) + r")\b", q)
    if m:
        back = (d.weekday() - _WEEKDAYS[m.group(1)]) % 7 or 7
        start = today - back * DAY
        out.since, out.until, out.phrase = start, start + DAY, m.group(0)
    return out


def _month_window(year: int, month: int) -> tuple[float, float]:
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = start + timedelta(days=calendar.monthrange(year, month)[1])
    return start.timestamp(), end.timestamp()


def last_stream_window(ts: np.ndarray, now: float, gap_s: float = 3 * 3600.0) -> tuple[float, float] | None:
    """The previous stream of a channel from its message times: streams are runs of messages
    separated by more than ``gap_s`` of silence. While a stream is live (the last message is
    recent) "last stream" is the one before it."""
    if len(ts) == 0:
        return None
    t = np.sort(ts[ts <= now])
    if len(t) == 0:
        return None
    cuts = np.flatnonzero(np.diff(t) > gap_s)
    starts = np.concatenate([[0], cuts + 1])
    ends = np.concatenate([cuts, [len(t) - 1]])
    i = len(starts) - 1
    if now - t[ends[i]] <= gap_s and i > 0:
        i -= 1
    return float(t[starts[i]]), float(t[ends[i]]) + 1.0
