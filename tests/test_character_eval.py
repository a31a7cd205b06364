"""The scripted evaluation replay (hand-built records) meets every expectation."""
from __future__ import annotations

import json

from benchmarks.character_eval import FIXTURE, KEYWORD_CONFIG, KeywordMemory, hand_record, load_fixture, main, replay, to_message
from pipelines.event import Event


def test_scripted_replay_expectations():
    rows = load_fixture(FIXTURE)
    msgs = [to_message(r) for r in rows]
    events = [Event(m, hand_record(m, r["analysis"])) for m, r in zip(msgs, rows)]
    out = replay(rows, events, KeywordMemory(), None, KEYWORD_CONFIG)
    assert out["picks"]["recall"] == 1.0 and out["picks"]["precision"] == 1.0
    assert out["picks"]["forbidden_picked"] == []
    assert {"question", "firsttimer"} <= set(out["picks"]["picked"])
    assert out["moderation"]["hit"] and "toxic" in out["moderation"]["fired_on"]
    assert out["injection_flagged"]["hit"]
    assert out["memory"] and out["memory"][0]["recalled"] and out["memory"][0]["rank"] == 1


def test_benchmark_prints_json(capsys):
    assert main(["--records", "hand"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["all_expectations_met"] is True and "hand" in out["runs"]
