"""Busy chat moves the mood by its mix, not its volume: hand-built records here (fast), and the
scripted streams of benchmarks.character_scenarios through the real analyser (slow)."""
from __future__ import annotations

import json
import random

import pytest

from benchmarks.character_scenarios import main
from companion.character import CharacterEngine
from tests.character_fakes import event


WORDS = ("apple river stone cloud piano tiger lemon castle rocket garden violet ocean pixel banjo comet maple "
         "otter canyon falcon velvet meadow quartz harbor lantern mango nebula orchid pepper saddle tundra "
         "walrus yonder zephyr amber bison cobalt dahlia ember fjord glacier hazel igloo jasper kettle lilac").split()


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _replay(tmp_path, rate: float, seconds: float, **rec) -> tuple[dict, set[str]]:
    clock = Clock()
    ch = CharacterEngine(tmp_path, clock=clock)
    ch.neuro.reset(0.0)
    rng = random.Random(0)
    shown = set()
    for i in range(int(rate * seconds)):
        clock.t = i / rate
        text = " ".join(rng.sample(WORDS, 4))  # distinct lines: this is busy chat, not a spam flood
        ch.process_batch([event(text, user=f"u{i % 97}", **rec)])
        shown.add(ch.mood_state()["expression"])
    return ch.mood_state(), shown


def test_busy_happy_chat_is_joyful_not_stressed(tmp_path):
    happy = {"sentiment": 0.7, "emotions": {"joy": 0.7, "excitement": 0.4, "annoyance": 0.05}, "ekman": "joy"}
    busy, shown = _replay(tmp_path / "busy", 5.0, 60.0, **happy)
    slow, _ = _replay(tmp_path / "slow", 0.5, 60.0, **happy)
    lv = busy["neurochemicals"]
    assert busy["expression"] == "joy" and not shown & {"anger", "fear", "disgust"}
    assert lv["cortisol"] < 0.2 and lv["dopamine"] < 0.9
    assert lv["dopamine"] - slow["neurochemicals"]["dopamine"] < 0.15  # 10x the volume, similar mood


def test_busy_angry_chat_at_the_same_rate_is_stressed(tmp_path):
    angry = {"sentiment": -0.7, "emotions": {"anger": 0.8, "annoyance": 0.6}, "ekman": "anger"}
    st, shown = _replay(tmp_path, 5.0, 40.0, **angry)
    assert st["neurochemicals"]["cortisol"] > 0.5 and "anger" in shown


@pytest.mark.slow
def test_every_scenario_passes_with_the_real_analyser(capsys):
    rc = main([])
    out = json.loads(capsys.readouterr().out)
    assert len(out["scenarios"]) >= 6
    assert rc == 0 and out["all_passed"], {n: r["checks"] for n, r in out["scenarios"].items() if not r["passed"]}
