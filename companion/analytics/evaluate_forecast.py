"""Rolling-origin comparison of Prophet with the naive and seasonal baselines; prints one JSON object.

    python -m companion.analytics.evaluate_forecast                     # simulated stream
    python -m companion.analytics.evaluate_forecast --replay chat.jsonl # chat rate of a replay file

The simulated stream goes through :class:`Analytics` exactly as live chat would (events ->
minute bins), so the numbers are for the same series the dashboard forecasts.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from .analytics import FORECAST_SERIES, Analytics
from .forecast import backtest
from .history import BinnedSeries
from .synthetic import chat_line, make_event, seasonal_rate


class SimClock:
    """A settable clock, so simulated minutes pass instantly."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def simulate(an: Analytics, clock: SimClock, minutes: int, season_min: int, seed: int, start: float) -> None:
    """Feed ``minutes`` of Poisson chat with a trend, a season and a drifting mood into ``an``."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    for m in range(minutes):
        n = int(nrng.poisson(seasonal_rate(m, base=30, trend=0.05, amplitude=10, season_min=season_min)))
        mood = 0.3 * math.sin(2 * math.pi * m / season_min + 1.0)
        events = [make_event(start + 60 * m + 60 * k / max(n, 1), f"viewer{rng.randrange(200)}", chat_line(rng),
                             channel="sim", sentiment=float(np.clip(mood + nrng.normal(0, 0.35), -1, 1)))
                  for k in range(n)]
        clock.t = start + 60 * m + 59.9
        an.ingest(events)
    clock.t = start + 60 * minutes + 1
    an.tick()


def replay_minutes(path: Path) -> BinnedSeries:
    """Per-minute message counts of a JSONL replay file (lines without a usable ``ts`` are skipped)."""
    series = BinnedSeries(60, 10**6)
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                ts = json.loads(line)["ts"]
                ts = float(ts) if not isinstance(ts, str) else datetime.fromisoformat(ts).timestamp()
            except (ValueError, KeyError, TypeError):
                continue
            series.current(ts).n += 1
    if series.open is not None:
        series.advance(series.open.t + 60)
    return series


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replay", type=Path, help="JSONL replay file; evaluates its chat rate")
    p.add_argument("--minutes", type=int, default=240, help="length of the simulated stream")
    p.add_argument("--season-min", type=int, default=60)
    p.add_argument("--horizon-min", type=int, default=30)
    p.add_argument("--origins", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    started = time.perf_counter()
    result: dict = {"horizon_min": args.horizon_min, "season_min": args.season_min, "origins_requested": args.origins}
    if args.replay:
        minutes = replay_minutes(args.replay)
        result["source"] = f"replay:{args.replay}"
        todo = {"rate": (minutes, (0.0, None))}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            start = 1_700_000_040.0
            clock = SimClock(start)
            an = Analytics(Path(tmp), clock=clock, season_min=args.season_min, horizon_min=args.horizon_min)
            simulate(an, clock, args.minutes, args.season_min, args.seed, start)
            an.close()
        minutes = an.channels["sim"].minutes
        result["source"] = f"simulated stream: {args.minutes} min, Poisson chat, trend + {args.season_min}-min season, seed {args.seed}"
        todo = {name: (minutes, bounds) for name, (_, bounds) in FORECAST_SERIES.items()}
    result["series"] = {}
    for name, (series, bounds) in todo.items():
        ts, ys = series.values(name)
        ev = backtest(ts, ys, horizon=args.horizon_min, season_min=args.season_min, n_origins=args.origins,
                      bounds=bounds)
        result["series"][name] = {"history_minutes": len(ys), "status": ev.status, "origins": ev.origins,
                                  "scored_points": ev.points, "mae": ev.mae, "winner": ev.winner, "reason": ev.reason}
    result["seconds"] = round(time.perf_counter() - started, 1)
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
