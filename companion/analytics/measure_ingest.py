"""Cost of the analytics stage on the event loop; prints one JSON object.

    python -m companion.analytics.measure_ingest [--messages 20000] [--batch 32]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from .analytics import Analytics
from .synthetic import steady_stream


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rate", type=float, default=50.0, help="simulated messages per second of stream time")
    args = p.parse_args(argv)
    events = list(steady_stream(1_700_000_040.0, int(args.messages / args.rate), args.rate, viewers=2000, seed=0))
    clock_t = [events[0].message.ts]
    with tempfile.TemporaryDirectory() as tmp:
        an = Analytics(Path(tmp), clock=lambda: clock_t[0])
        per_batch = []
        started = time.perf_counter()
        for i in range(0, len(events), args.batch):
            part = events[i : i + args.batch]
            clock_t[0] = part[-1].message.ts
            t = time.perf_counter()
            an.ingest(part)
            per_batch.append((time.perf_counter() - t) * 1000)
        total = time.perf_counter() - started
        t = time.perf_counter()
        snap = an.snapshot()
        snapshot_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        an.save()
        save_ms = (time.perf_counter() - t) * 1000
        an.close()
    per_batch.sort()
    print(json.dumps({
        "messages": len(events), "batch": args.batch, "msgs_per_s": round(len(events) / total),
        "batch_ms_p50": round(statistics.median(per_batch), 3), "batch_ms_p99": round(per_batch[int(len(per_batch) * 0.99)], 3),
        "snapshot_ms": round(snapshot_ms, 2), "save_ms": round(save_ms, 2), "alerts": len(snap["alerts"]),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
