"""Background refits of the forecasts, in one worker thread so the event loop never waits."""
from __future__ import annotations

import concurrent.futures
import logging
import threading
from dataclasses import dataclass
from typing import Sequence

from .forecast import Forecast, forecast_series

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ForecastJob:
    """Inputs of one forecast, copied out of the live state so the worker shares nothing."""

    channel: str
    series: str
    ts: Sequence[float]
    ys: Sequence[float | None]
    now: float
    horizon: int
    season_min: int
    min_history: int
    bounds: tuple[float | None, float | None]


def run_job(job: ForecastJob) -> Forecast:
    return forecast_series(job.series, job.ts, job.ys, job.now, horizon=job.horizon, season_min=job.season_min,
                           min_history=job.min_history, bounds=job.bounds)


class Refitter:
    """Runs batches of :class:`ForecastJob` on a single worker thread, one batch at a time, and
    keeps the latest :class:`Forecast` per ``(channel, series)``."""

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="forecast-refit")
        self._lock = threading.Lock()
        self.results: dict[tuple[str, str], Forecast] = {}
        self.in_flight: concurrent.futures.Future | None = None
        self.fits = 0

    @property
    def busy(self) -> bool:
        return self.in_flight is not None and not self.in_flight.done()

    def submit(self, jobs: list[ForecastJob]) -> concurrent.futures.Future | None:
        """Start a batch unless one is running (returns None then)."""
        if self.busy:
            return None
        self.in_flight = self._pool.submit(self._run, jobs)
        return self.in_flight

    def _run(self, jobs: list[ForecastJob]) -> None:
        for job in jobs:
            try:
                result = run_job(job)
            except Exception:  # keep the worker alive; the old forecast stays visible
                log.exception("forecast job %s/%s failed", job.channel, job.series)
                continue
            with self._lock:
                self.results[(job.channel, job.series)] = result
                self.fits += 1

    def get(self, channel: str, series: str) -> Forecast | None:
        with self._lock:
            return self.results.get((channel, series))

    def forget_channel(self, channel: str) -> None:
        with self._lock:
            for key in [k for k in self.results if k[0] == channel]:
                del self.results[key]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
