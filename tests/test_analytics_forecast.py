"""Forecasts: known trend + seasonality within tolerance, honest "insufficient history", baselines."""
import math
import random

import numpy as np
import pytest

from companion.analytics import Analytics
from companion.analytics.forecast import backtest, forecast_series, naive_forecast, seasonal_forecast
from companion.analytics.synthetic import make_event, seasonal_rate

T0 = 1_700_000_040.0


def synthetic(n: int, season: int = 30, noise: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    ts = [T0 + 60 * i for i in range(n)]
    truth = [20 + 0.1 * i + 5 * math.sin(2 * math.pi * i / season) for i in range(n)]
    return ts, truth, [v + rng.normal(0, noise) for v in truth]


def test_baselines():
    assert naive_forecast([1.0, None, 3.0, None], 2) == [3.0, 3.0]
    assert seasonal_forecast([1.0, 2.0, 3.0, 4.0], 3, season=2) == [3.0, 4.0, 3.0]
    assert seasonal_forecast([1.0], 2, season=5) == [1.0, 1.0]


def test_prophet_recovers_trend_and_seasonality():
    ts, truth, ys = synthetic(150)
    h = 20
    fc = forecast_series("rate", ts[:120], ys[:120], now=ts[119], horizon=h, season_min=30)
    assert fc.status == "ok" and len(fc.points) == h
    assert fc.points[0].t == pytest.approx(ts[120])
    future = truth[120 : 120 + h]
    mae = np.mean([abs(p.yhat - y) for p, y in zip(fc.points, future)])
    assert mae < 1.5, mae
    inside = sum(p.lo <= y <= p.hi for p, y in zip(fc.points, future))
    assert inside >= 0.7 * h and all(p.lo <= p.yhat <= p.hi for p in fc.points)
    ev = fc.evaluation
    assert ev.status == "ok" and ev.origins >= 2 and ev.points == ev.origins * h
    assert ev.winner == "prophet" and ev.mae["prophet"] < ev.mae["naive"]


def test_backtest_prefers_naive_on_a_random_walk():
    rng = np.random.default_rng(1)
    ys = list(np.cumsum(rng.normal(0, 1, 90)) + 50)
    ev = backtest([T0 + 60 * i for i in range(90)], ys, horizon=10, season_min=30, n_origins=3)
    assert ev.status == "ok" and set(ev.mae) == {"prophet", "naive", "seasonal"}
    assert ev.mae["seasonal"] > ev.mae["naive"]


def test_short_history_is_insufficient():
    ts, _, ys = synthetic(12)
    fc = forecast_series("rate", ts, ys, now=ts[-1])
    assert fc.status == "insufficient_history" and fc.points == []
    assert "insufficient history" in fc.reason and "have 12" in fc.reason
    ev = backtest(ts, ys, horizon=10, min_train=10)
    assert ev.status == "insufficient_history" and ev.winner is None


async def test_analytics_refits_in_background(tmp_path):
    clock = type("C", (), {"t": T0, "__call__": lambda self: self.t})()
    an = Analytics(tmp_path, clock=clock, horizon_min=10, season_min=20, min_history_min=20)
    assert an.snapshot()["channels"] == {}
    rng = random.Random(0)
    for minute in range(12):
        n = round(seasonal_rate(minute, base=20, amplitude=6, season_min=20))
        clock.t = T0 + 60 * minute + 59
        an.ingest([make_event(T0 + 60 * minute + 59 * k / n, f"v{rng.randrange(30)}", f"line {minute} {k} words",
                              sentiment=0.3) for k in range(n)])
    fc = an.snapshot()["channels"]["demo"]["forecast"]["rate"]
    assert fc["status"] == "insufficient_history" and fc["points"] == []
    for minute in range(12, 45):
        n = round(seasonal_rate(minute, base=20, amplitude=6, season_min=20))
        clock.t = T0 + 60 * minute + 59
        an.ingest([make_event(T0 + 60 * minute + 59 * k / n, f"v{rng.randrange(30)}", f"line {minute} {k} words",
                              sentiment=0.3) for k in range(n)])
    assert an.snapshot()["channels"]["demo"]["forecast"]["rate"]["status"] == "pending"
    await an.refit()
    snap = an.snapshot()["channels"]["demo"]["forecast"]
    rate = snap["rate"]
    assert rate["status"] == "ok" and len(rate["points"]) == 10
    assert all(lo <= yhat <= hi and lo >= 0 for _, yhat, lo, hi in rate["points"])
    assert rate["evaluation"]["winner"] in {"prophet", "naive", "seasonal"}
    assert snap["sentiment"]["status"] == "ok"
    assert all(-1 <= v <= 1 for p in snap["sentiment"]["points"] for v in p[1:])
    an.close()
