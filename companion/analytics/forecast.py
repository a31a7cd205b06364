"""Forecasts of a per-minute series (chat rate, sentiment) with Prophet, two baselines, and a
rolling-origin backtest that says which of the three is best on the stream's own history.

Everything here is pure and synchronous: it is called from a worker thread (see ``refit.py``).
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

MIN_HISTORY_MIN = 30
HORIZON_MIN = 30
SEASON_MIN = 60
INTERVAL_WIDTH = 0.8

Series = Sequence[float | None]


@dataclass(slots=True)
class ForecastPoint:
    t: float
    yhat: float
    lo: float
    hi: float


@dataclass(slots=True)
class Evaluation:
    """Rolling-origin mean absolute error of each method over the same held-out minutes."""

    status: str  # ok | insufficient_history
    horizon_min: int
    origins: int = 0
    points: int = 0
    mae: dict[str, float] = field(default_factory=dict)
    winner: str | None = None
    reason: str = ""


@dataclass(slots=True)
class Forecast:
    series: str
    status: str  # ok | insufficient_history | pending | error
    reason: str = ""
    method: str = "prophet"
    horizon_min: int = HORIZON_MIN
    history_points: int = 0
    fitted_at: float | None = None
    points: list[ForecastPoint] = field(default_factory=list)
    evaluation: Evaluation | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["points"] = [[round(p.t), round(p.yhat, 3), round(p.lo, 3), round(p.hi, 3)] for p in self.points]
        return d


def insufficient(series: str, have: int, need: int = MIN_HISTORY_MIN, horizon_min: int = HORIZON_MIN) -> Forecast:
    """The honest answer when there is too little history to forecast."""
    return Forecast(series=series, status="insufficient_history", horizon_min=horizon_min, history_points=have,
                    reason=f"insufficient history: need {need} minutes with chat, have {have}")


def _clean(ys: Series) -> list[float]:
    return [float(y) for y in ys if y is not None and not math.isnan(y)]


def naive_forecast(ys: Series, h: int) -> list[float]:
    """Last observed value, repeated."""
    vals = _clean(ys)
    return [vals[-1]] * h if vals else [0.0] * h


def seasonal_forecast(ys: Series, h: int, season: int) -> list[float]:
    """The value one season earlier (seasonal naive); falls back to naive for missing points."""
    n = len(ys)
    if n < season:
        return naive_forecast(ys, h)
    last = naive_forecast(ys, 1)[0]
    out = []
    for j in range(h):
        y = ys[n - season + (j % season)]
        out.append(float(y) if y is not None else last)
    return out


def _quiet_prophet_logs() -> None:
    from cmdstanpy.utils import get_logger

    get_logger()  # cmdstanpy configures its logger lazily; do it now so the level below sticks
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


def prophet_forecast(ts: Sequence[float], ys: Series, h: int, season_min: int = SEASON_MIN,
                     step_s: int = 60, bounds: tuple[float | None, float | None] = (None, None),
                     seed: int = 0) -> list[ForecastPoint]:
    """Fit Prophet on ``(ts, ys)`` (epoch seconds, one point per ``step_s``) and forecast ``h`` steps.

    A custom seasonality of ``season_min`` minutes is added once two full seasons are seen, and
    daily seasonality once two days are. Missing values (None) are left out of the fit.
    """
    import pandas as pd
    from prophet import Prophet

    _quiet_prophet_logs()
    pairs = [(t, y) for t, y in zip(ts, ys) if y is not None and not math.isnan(y)]
    df = pd.DataFrame({"ds": pd.to_datetime([t for t, _ in pairs], unit="s"), "y": [y for _, y in pairs]})
    span_min = (ts[-1] - ts[0]) / 60.0 if len(ts) > 1 else 0.0
    model = Prophet(interval_width=INTERVAL_WIDTH, daily_seasonality=span_min >= 2 * 1440,
                    weekly_seasonality=False, yearly_seasonality=False, uncertainty_samples=200)
    if span_min >= 2 * season_min:
        model.add_seasonality(name="stream", period=season_min / 1440.0, fourier_order=3)
    np.random.seed(seed)
    model.fit(df)
    future = pd.DataFrame({"ds": pd.to_datetime([ts[-1] + step_s * (i + 1) for i in range(h)], unit="s")})
    pred = model.predict(future)
    lo_b, hi_b = bounds
    out = []
    for t, row in zip(future["ds"], pred.itertuples()):
        vals = [row.yhat, row.yhat_lower, row.yhat_upper]
        if lo_b is not None:
            vals = [max(lo_b, v) for v in vals]
        if hi_b is not None:
            vals = [min(hi_b, v) for v in vals]
        out.append(ForecastPoint(t=t.timestamp(), yhat=float(vals[0]), lo=float(vals[1]), hi=float(vals[2])))
    return out


def backtest(ts: Sequence[float], ys: Series, horizon: int = HORIZON_MIN, season_min: int = SEASON_MIN,
             n_origins: int = 4, min_train: int = MIN_HISTORY_MIN, step_s: int = 60,
             bounds: tuple[float | None, float | None] = (None, None)) -> Evaluation:
    """Rolling-origin evaluation: at each of the last ``n_origins`` origins (``horizon`` apart),
    train on everything before it and score the next ``horizon`` points, for Prophet, the naive
    last value and the seasonal naive baseline. MAE is pooled over every scored point."""
    n = len(ys)
    origins = [n - horizon * (i + 1) for i in range(n_origins)]
    origins = sorted(o for o in origins if o >= min_train and len(_clean(ys[:o])) >= min_train)
    if not origins:
        return Evaluation(status="insufficient_history", horizon_min=horizon,
                          reason=f"insufficient history: backtest needs {min_train + horizon} minutes, have {n}")
    season = max(1, season_min * 60 // step_s)
    methods: dict[str, Callable[[int], list[float]]] = {
        "prophet": lambda o: [p.yhat for p in prophet_forecast(ts[:o], ys[:o], horizon, season_min, step_s, bounds)],
        "naive": lambda o: naive_forecast(ys[:o], horizon),
        "seasonal": lambda o: seasonal_forecast(ys[:o], horizon, season),
    }
    errors: dict[str, list[float]] = {m: [] for m in methods}
    for o in origins:
        actual = ys[o : o + horizon]
        for name, fn in methods.items():
            pred = fn(o)
            errors[name].extend(abs(p - a) for p, a in zip(pred, actual) if a is not None)
    mae = {m: round(float(np.mean(e)), 4) for m, e in errors.items() if e}
    winner = min(mae, key=mae.get) if mae else None
    return Evaluation(status="ok", horizon_min=horizon, origins=len(origins), points=len(errors["naive"]),
                      mae=mae, winner=winner)


def forecast_series(name: str, ts: Sequence[float], ys: Series, now: float, horizon: int = HORIZON_MIN,
                    season_min: int = SEASON_MIN, min_history: int = MIN_HISTORY_MIN, evaluate: bool = True,
                    bounds: tuple[float | None, float | None] = (None, None)) -> Forecast:
    """Forecast one series, or say that its history is insufficient. Never raises on bad fits."""
    have = len(_clean(ys))
    if have < min_history:
        return insufficient(name, have, min_history, horizon)
    try:
        points = prophet_forecast(ts, ys, horizon, season_min, bounds=bounds)
        evaluation = backtest(ts, ys, horizon, season_min, min_train=min_history, bounds=bounds) if evaluate else None
    except Exception as exc:  # a failed optimiser run must not kill the refit thread
        logging.getLogger(__name__).warning("forecast of %s failed: %s", name, exc)
        return Forecast(series=name, status="error", reason=f"fit failed: {exc}", horizon_min=horizon, history_points=have)
    return Forecast(series=name, status="ok", horizon_min=horizon, history_points=have, fitted_at=now,
                    points=points, evaluation=evaluation)
