"""Anomaly detection: spikes, raids, spam waves and toxicity surges fire; a steady stream does not."""
import random

import pytest

from companion.analytics import Analytics
from companion.analytics.anomalies import robust_z
from companion.analytics.synthetic import chat_line, make_event, steady_stream
from pipelines.bus import Bus

T0 = 1_700_000_040.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def run(an, clock, events, batch=3):
    alerts = []
    events = sorted(events, key=lambda e: e.message.ts)
    for i in range(0, len(events), batch):
        part = events[i : i + batch]
        clock.t = part[-1].message.ts
        alerts += an.ingest(part)
    return alerts


@pytest.fixture
def setup(tmp_path):
    clock = Clock(T0)
    bus = Bus()
    sub = bus.subscribe("alerts")
    return Analytics(tmp_path, bus=bus, clock=clock), clock, sub


def test_robust_z_ignores_outliers_in_baseline():
    z, med = robust_z(30, [10, 11, 9, 10, 12, 10, 200])
    assert med == 10 and z > 4
    z, _ = robust_z(11, [10, 11, 9, 10, 12, 10])
    assert z < 1


def test_steady_stream_raises_no_alert(setup):
    an, clock, sub = setup
    alerts = run(an, clock, list(steady_stream(T0, 900, 1.5, seed=3, toxic_rate=0.02)))
    assert alerts == [] and sub.queue.empty()
    assert an.snapshot()["moments"] == []


def test_hype_spike_detected_with_reason_and_moment(setup):
    an, clock, sub = setup
    base = list(steady_stream(T0, 300, 1.0, seed=1))
    rng = random.Random(2)
    spike = [make_event(T0 + 300 + i / 6, f"viewer{rng.randrange(40)}", chat_line(rng), sentiment=0.8)
             for i in range(60)]
    alerts = run(an, clock, base + spike)
    kinds = [a.kind for a in alerts]
    assert kinds.count("hype_spike") == 1, kinds
    hype = next(a for a in alerts if a.kind == "hype_spike")
    assert hype.label == "Hype spike" and "messages in 10 s" in hype.reason and hype.score >= 4
    assert hype.ts >= T0 + 300
    published = sub.queue.get_nowait()
    assert published["kind"] == "hype_spike" and published["label"] == "Hype spike" and published["reason"]
    assert {"ts", "channel", "kind", "label", "reason", "severity"} <= set(published)
    moments = an.snapshot()["moments"]
    assert len(moments) == 1 and moments[0]["start"] < hype.ts < moments[0]["end"]


def test_spam_wave_of_near_duplicates(setup):
    an, clock, sub = setup
    base = list(steady_stream(T0, 240, 1.0, seed=4))
    spam = [make_event(T0 + 240 + i, f"bot{i}", f"Buy cheap followers at spam-site dot example{'!' * (i % 3)}")
            for i in range(8)]
    alerts = run(an, clock, base + spam + list(steady_stream(T0 + 250, 20, 1.0, seed=5)))
    spam_alerts = [a for a in alerts if a.kind == "spam_wave"]
    assert len(spam_alerts) == 1
    assert "near-duplicate" in spam_alerts[0].reason and "followers" in spam_alerts[0].reason
    assert spam_alerts[0].severity == "warning"


def test_toxicity_surge(setup):
    an, clock, sub = setup
    base = list(steady_stream(T0, 300, 1.0, seed=6, toxic_rate=0.01))
    surge = list(steady_stream(T0 + 300, 60, 1.0, seed=7, toxic_rate=0.5))
    alerts = run(an, clock, base + surge)
    tox = [a for a in alerts if a.kind == "toxicity_surge"]
    assert len(tox) == 1
    assert "flagged toxic in the last 60 s" in tox[0].reason and tox[0].ts >= T0 + 300


def test_new_chatter_burst_is_a_possible_raid(setup):
    an, clock, sub = setup
    base = list(steady_stream(T0, 300, 1.0, seed=8, viewers=20))
    raid = [make_event(T0 + 300 + i / 3, f"raider{i}", f"hello from the raid party number {i}") for i in range(30)]
    alerts = run(an, clock, base + raid)
    assert any(a.kind == "raid" and "first-time chatters" in a.reason for a in alerts)
