"""The analytics facade: per-channel windows, forecasts, anomalies, moments and persistence."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from pipelines.event import Event
from pipelines.stage import MessageErrors

from .alerts import Alert, Moment
from .channel import ChannelAnalytics
from .forecast import HORIZON_MIN, MIN_HISTORY_MIN, SEASON_MIN, Forecast, insufficient
from .refit import ForecastJob, Refitter
from .store import AnalyticsStore

if TYPE_CHECKING:
    from pipelines.bus import Bus

    from .stage import AnalyticsStage

log = logging.getLogger(__name__)

# Forecast series: name -> (history series in BinnedSeries, bounds of the value).
FORECAST_SERIES: dict[str, tuple[str, tuple[float | None, float | None]]] = {
    "rate": ("rate", (0.0, None)),
    "sentiment": ("sentiment", (-1.0, 1.0)),
}
SERIES_MINUTES_SHOWN = 120
RECENT_BINS_SHOWN = 90  # 15 minutes of 10-second bins


class Analytics:
    """Live analytics of every channel. Feed it with :meth:`ingest` (or through :attr:`stage`),
    read it with :meth:`snapshot`. Alerts are published on the bus topic ``alerts``.

    ``ingest`` and ``tick`` are cheap and run on the event loop; Prophet fits run on a worker
    thread (:class:`Refitter`) every ``refit_s`` seconds; state is saved to
    ``<data_dir>/analytics/state.json`` and loaded back on construction.
    """

    def __init__(self, data_dir: Path, bus: "Bus | None" = None, clock: Callable[[], float] = time.time,
                 horizon_min: int = HORIZON_MIN, season_min: int = SEASON_MIN,
                 min_history_min: int = MIN_HISTORY_MIN, refit_s: float = 180.0, save_s: float = 30.0) -> None:
        self.bus = bus
        self.clock = clock
        self.horizon_min = horizon_min
        self.season_min = season_min
        self.min_history_min = min_history_min
        self.refit_s = refit_s
        self.save_s = save_s
        self.channels: dict[str, ChannelAnalytics] = {}
        self.alerts: deque[Alert] = deque(maxlen=200)
        self.refitter = Refitter()
        self.store = AnalyticsStore(Path(data_dir))
        self.last_refit: float | None = None
        self._stage: "AnalyticsStage | None" = None
        self._load()

    # -- input -----------------------------------------------------------------------------
    def channel(self, name: str) -> ChannelAnalytics:
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = ChannelAnalytics(name, self.clock)
        return ch

    def ingest(self, events: Iterable[Event]) -> list[Alert]:
        """Count a batch of analysed events and return (and publish) the alerts they raised."""
        touched: dict[str, ChannelAnalytics] = {}
        raised: list[Alert] = []
        failures: list[tuple[Event, BaseException]] = []
        for ev in events:
            try:  # one bad message costs only itself (pipelines.stage failure contract)
                ch = self.channel(ev.message.channel or "default")
                raised.extend(ch.add(ev.message, ev.record))
                touched[ch.name] = ch
            except Exception as exc:
                failures.append((ev, exc))
        for ch in touched.values():
            raised.extend(ch.check())
        self._emit(raised)
        if failures:
            raise MessageErrors(failures)
        return raised

    def tick(self) -> list[Alert]:
        """Advance every channel's clock (closes bins, ages windows) and judge rates."""
        raised = [a for ch in list(self.channels.values()) for a in ch.check()]
        self._emit(raised)
        return raised

    def _emit(self, alerts: list[Alert]) -> None:
        for a in alerts:
            self.alerts.append(a)
            if self.bus is not None:
                self.bus.publish("alerts", a.to_dict())

    # -- forecasts -------------------------------------------------------------------------
    def forecast_jobs(self) -> list[ForecastJob]:
        """Copies of each channel's minute series, ready for the worker thread."""
        jobs = []
        for ch in self.channels.values():
            for name, (series, bounds) in FORECAST_SERIES.items():
                ts, ys = ch.minutes.values(series)
                jobs.append(ForecastJob(ch.name, name, list(ts), list(ys), self.clock(), self.horizon_min,
                                        self.season_min, self.min_history_min, bounds))
        return jobs

    def maybe_refit(self) -> bool:
        """Start a background refit when one is due and none is running; never waits."""
        now = self.clock()
        if self.refitter.busy or (self.last_refit is not None and now - self.last_refit < self.refit_s):
            return False
        jobs = [j for j in self.forecast_jobs() if sum(y is not None for y in j.ys) >= j.min_history]
        self.last_refit = now
        if not jobs:
            return False
        return self.refitter.submit(jobs) is not None

    async def refit(self) -> None:
        """Refit every forecast now on the worker thread and wait for it (tests, CLI)."""
        while self.refitter.busy:
            await asyncio.sleep(0.05)
        fut = self.refitter.submit(self.forecast_jobs())
        self.last_refit = self.clock()
        if fut is not None:
            await asyncio.wrap_future(fut)

    def forecast(self, channel: str, series: str) -> Forecast:
        """The latest forecast, or why there is none (insufficient history / pending)."""
        ch = self.channels.get(channel)
        have = sum(y is not None for y in ch.minutes.values(FORECAST_SERIES[series][0])[1]) if ch else 0
        if have < self.min_history_min:
            return insufficient(series, have, self.min_history_min, self.horizon_min)
        got = self.refitter.get(channel, series)
        if got is None:
            return Forecast(series=series, status="pending", horizon_min=self.horizon_min, history_points=have,
                            reason="first fit is running in the background")
        return got

    # -- output ----------------------------------------------------------------------------
    def channel_snapshot(self, ch: ChannelAnalytics) -> dict[str, Any]:
        now = ch.now()
        minutes_t, rate = ch.minutes.values("rate")
        _, sentiment = ch.minutes.values("sentiment")
        _, toxicity = ch.minutes.values("toxicity")
        k = SERIES_MINUTES_SHOWN
        emotions = [_mix(b.emotions) for b in list(ch.minutes.closed)[-k:]]
        tens = list(ch.tens.closed)[-RECENT_BINS_SHOWN:]
        return {
            "now": now,
            "total_messages": ch.total_messages,
            "windows": {name: w.to_dict() for name, w in ch.windows.all_windows(now).items()},
            "series": {
                "t": minutes_t[-k:], "rate": rate[-k:], "sentiment": _round(sentiment[-k:]),
                "toxicity": _round(toxicity[-k:]), "emotions": emotions,
            },
            "recent": {"t": [b.t for b in tens], "rate": [b.n * 6 for b in tens],
                       "sentiment": _round([b.sentiment for b in tens])},
            "forecast": {name: self.forecast(ch.name, name).to_dict() for name in FORECAST_SERIES},
            "top_chatters": ch.engagement.top(now, 10),
            "alerts": [a.to_dict() for a in list(ch.alerts)[-20:]],
            "moments": [m.to_dict() for m in list(ch.moments)[-20:]],
        }

    def snapshot(self) -> dict[str, Any]:
        """JSON-able view of everything: per-channel windows, series, forecasts (with the
        baseline comparison), alerts, moments and top chatters."""
        channels = {name: self.channel_snapshot(ch) for name, ch in list(self.channels.items())}
        moments: list[Moment] = sorted((m for ch in self.channels.values() for m in ch.moments), key=lambda m: m.ts)
        top = sorted((v for c in channels.values() for v in c["top_chatters"]), key=lambda v: -v["score"])[:10]
        return {
            "ts": self.clock(),
            "channels": channels,
            "alerts": [a.to_dict() for a in list(self.alerts)[-50:]],
            "moments": [m.to_dict() for m in moments[-20:]],
            "top_chatters": top,
            "forecast_config": {"horizon_min": self.horizon_min, "season_min": self.season_min,
                                "min_history_min": self.min_history_min, "refit_s": self.refit_s,
                                "refits": self.refitter.fits},
        }

    def viewer_summary(self, viewer: str) -> dict[str, Any]:
        """Engagement of one viewer in every channel where it was seen."""
        out = {}
        for ch in self.channels.values():
            v = ch.engagement.viewers.get(viewer)
            if v is not None:
                out[ch.name] = v.to_dict(ch.now())
        return out

    def forget_viewer(self, viewer: str) -> bool:
        """Forget ``viewer`` everywhere in the analytics (privacy request)."""
        found = False
        for ch in self.channels.values():
            found |= ch.forget(viewer)
        return found

    # -- persistence -----------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """A copy of the state for :class:`AnalyticsStore` (built on the loop, written off it)."""
        return {"channels": {name: ch.to_dict() for name, ch in self.channels.items()},
                "alerts": [a.to_dict() for a in self.alerts]}

    def save(self) -> None:
        self.store.save(self.export_state())

    async def save_async(self) -> None:
        state = self.export_state()
        await asyncio.to_thread(self.store.save, state)

    def _load(self) -> None:
        state = self.store.load()
        if not state:
            return
        for name, d in state.get("channels", {}).items():
            self.channel(name).load(d)
        self.alerts.extend(Alert.from_dict(a) for a in state.get("alerts", []))

    @property
    def stage(self) -> "AnalyticsStage":
        """The pipeline stage feeding this object (created once)."""
        if self._stage is None:
            from .stage import AnalyticsStage

            self._stage = AnalyticsStage(self)
        return self._stage

    def close(self) -> None:
        self.refitter.close()


def _mix(counter: Any) -> dict[str, float]:
    total = sum(counter.values())
    return {k: round(v / total, 3) for k, v in counter.items()} if total else {}


def _round(vals: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 3) for v in vals]
