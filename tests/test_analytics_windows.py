"""Rolling windows, engagement, persistence and the analytics stage."""
import json

import pytest

from companion.analytics import Analytics, AnalyticsStage
from companion.analytics.synthetic import make_event, steady_stream
from companion.messages import MessageKind
from pipelines.bus import Bus
from pipelines.stage import Stage

T0 = 1_700_000_040.0  # on a minute boundary


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def feed(an: Analytics, clock: Clock, events, batch: int = 5) -> list:
    alerts = []
    for i in range(0, len(events), batch):
        part = events[i : i + batch]
        clock.t = part[-1].message.ts
        alerts += an.ingest(part)
    return alerts


def test_windows_count_rates_chatters_sentiment_and_toxicity(tmp_path):
    clock = Clock(T0)
    an = Analytics(tmp_path, clock=clock)
    events = [make_event(T0 + i, f"u{i % 6}", f"hello there number {i} PogChamp 😂", sentiment=0.5 if i % 2 else -0.5,
                         toxic=(i % 10 == 0), emotes=[(20 + len(str(i)), 27 + len(str(i)), "PogChamp")])
              for i in range(120)]
    feed(an, clock, events)
    w = an.snapshot()["channels"]["demo"]["windows"]
    assert w["10s"]["messages"] == 10
    assert w["1m"]["messages"] == 60 and w["1m"]["msgs_per_min"] == 60.0
    assert w["5m"]["messages"] == 120 and w["5m"]["msgs_per_min"] == pytest.approx(24.0)
    assert w["5m"]["unique_chatters"] == 6 and w["5m"]["new_chatters"] == 6
    assert w["1m"]["new_chatters"] == 0
    assert w["5m"]["sentiment"]["mean"] == pytest.approx(0.0)
    assert w["5m"]["sentiment"]["distribution"] == {"positive": 0.5, "neutral": 0.0, "negative": 0.5}
    assert w["5m"]["toxicity_rate"] == pytest.approx(0.1)
    assert dict(w["5m"]["top_emotes"])["PogChamp"] == 120
    assert dict(w["5m"]["top_emotes"])["😂"] == 120
    assert "hello" in dict(w["5m"]["top_words"]) and "pogchamp" not in dict(w["5m"]["top_words"])
    assert w["5m"]["emotions"] == {"neutral": 1.0}
    json.dumps(an.snapshot())  # JSON-able


def test_events_and_engagement(tmp_path):
    clock = Clock(T0)
    an = Analytics(tmp_path, clock=clock)
    events = [
        make_event(T0, "alice", "", kind=MessageKind.SUB),
        make_event(T0 + 1, "bob", "", kind=MessageKind.RAID, tags={"msg-param-viewerCount": "42"}),
        make_event(T0 + 2, "carol", "cheer100 nice", kind=MessageKind.BITS, bits=100),
        make_event(T0 + 3, "dave", "just chatting here today"),
    ]
    feed(an, clock, events, batch=1)
    snap = an.snapshot()
    w = snap["channels"]["demo"]["windows"]["1m"]
    assert w["events"]["sub"] == 1 and w["events"]["raid"] == 1 and w["events"]["bits"] == 100
    assert w["messages"] == 2  # the cheer and the chat line; subs and raids are events, not chat
    top = [v["user"] for v in snap["top_chatters"]]
    assert top[0] == "bob"  # a raid is worth more than a chat line
    assert set(top) == {"alice", "bob", "carol", "dave"}
    assert any(a["kind"] == "raid" and "42 viewers" in a["reason"] for a in snap["alerts"])


def test_windows_age_out_when_chat_goes_quiet(tmp_path):
    clock = Clock(T0)
    an = Analytics(tmp_path, clock=clock)
    feed(an, clock, list(steady_stream(T0, 60, 1.0)))
    clock.t += 120
    an.tick()
    w = an.snapshot()["channels"]["demo"]["windows"]
    assert w["10s"]["messages"] == 0 and w["1m"]["messages"] == 0 and w["5m"]["messages"] == 60
    series = an.snapshot()["channels"]["demo"]["series"]
    assert series["rate"][:1] == [60.0] and series["rate"][-1] == 0.0


def test_history_survives_restart(tmp_path):
    clock = Clock(T0)
    an = Analytics(tmp_path, clock=clock)
    feed(an, clock, list(steady_stream(T0, 300, 0.5)))
    before = an.snapshot()["channels"]["demo"]
    an.save()
    again = Analytics(tmp_path, clock=clock)
    after = again.snapshot()["channels"]["demo"]
    assert after["total_messages"] == before["total_messages"] == 150
    assert after["series"]["rate"] == before["series"]["rate"] and len(after["series"]["rate"]) == 4
    assert after["windows"]["5m"]["messages"] == before["windows"]["5m"]["messages"]
    assert [v["viewer"] for v in after["top_chatters"]] == [v["viewer"] for v in before["top_chatters"]]


def test_corrupt_state_file_is_set_aside(tmp_path):
    (tmp_path / "analytics").mkdir()
    (tmp_path / "analytics" / "state.json").write_text("{not json")
    an = Analytics(tmp_path)
    assert an.channels == {}
    assert list((tmp_path / "analytics").glob("state.corrupt.*"))


def test_forget_viewer(tmp_path):
    clock = Clock(T0)
    an = Analytics(tmp_path, clock=clock)
    feed(an, clock, [make_event(T0 + i, "alice" if i % 2 else "bob", f"message {i} about things") for i in range(10)])
    assert an.viewer_summary("twitch:alice")["demo"]["messages"] == 5
    assert an.forget_viewer("twitch:alice")
    assert an.viewer_summary("twitch:alice") == {}
    snap = an.snapshot()
    assert all(v["viewer"] != "twitch:alice" for v in snap["top_chatters"])
    assert all(e["viewer"] != "twitch:alice" for e in snap["channels"]["demo"]["windows"]["5m"]["engagement"])


async def test_stage_processes_batches_and_saves_on_stop(tmp_path):
    bus = Bus()
    an = Analytics(tmp_path, bus=bus)
    stage = an.stage
    assert isinstance(stage, AnalyticsStage) and isinstance(stage, Stage)
    await stage.start()
    import time

    now = time.time()
    await stage.process(list(steady_stream(now - 20, 20, 1.0)))
    assert an.snapshot()["channels"]["demo"]["windows"]["1m"]["messages"] == 20
    await stage.stop()
    assert (tmp_path / "analytics" / "state.json").exists()
