"""Scripted chat streams through the real analyser and the character engine, each with the mood it
should produce.

    python -m benchmarks.character_scenarios [--only NAME ...] [--trajectory]

Each scenario is a stream of chat lines with timestamps (a fixed seed, so every run is the same
stream). The lines go through :class:`companion.Analyzer` (the shipped models) and then, one
message at a time with the clock at the message's time, through :class:`CharacterEngine`. The
mood is sampled every second. Every scenario has expectations written as checks on the
trajectory (a level at a time, the expression during a phase, ...). The benchmark prints one JSON
object: per scenario the checks with pass/fail and the observed value, the spam share of its
messages, the peak deviation of each level and ``return_to_baseline_s``: seconds from the last
message until every level is within ``BASELINE_TOL`` of its baseline (``null`` if not within the
horizon). ``all_passed`` is the conjunction.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from companion.character import CharacterConfig, CharacterEngine
from companion.messages import ChatMessage, MessageKind
from pipelines.event import Event

BASELINE_TOL = 0.05
LULL_S = 1800.0  # every scenario ends with this much silence, to measure the return to baseline
CHANNEL = "#aiko_live"

COZY = ["how was your day Aiko?", "this song is so relaxing", "good evening everyone",
        "love the vibes tonight", "thanks for streaming, it helps me unwind", "what are you drinking today?",
        "the rain sounds are nice", "i just got home from work, perfect timing", "this is my favourite part",
        "cozy stream as always", "did you finish the book you were reading?", "hi chat, hope you're all well",
        "that drawing looks really nice", "i made tea for this", "what game are we playing next week?",
        "your voice is so calming", "just chilling with my cat", "lovely stream tonight",
        "my dog is asleep on my feet", "anyone else eating dinner right now?", "the new overlay looks great",
        "i tried the recipe you mentioned, it worked", "weather here is finally warm", "back from the gym, what did i miss",
        "are we doing the quiz later?", "first time catching a stream live in weeks", "i like the lighting on the model",
        "the soundtrack in this game is underrated", "can't wait for the weekend", "my exams are finally over",
        "chat is so wholesome tonight", "who else is watching from europe", "the garden level is pretty",
        "i should sleep but this is too nice", "do you have a favourite season?", "just finished knitting a scarf",
        "good luck on the next puzzle", "that joke earlier got me", "i bought the same plant you have",
        "morning from australia", "it's snowing outside here", "any plans for the holidays?",
        "that was a clever solution", "the cat in the background is adorable", "rewatching the last vod later",
        "my coffee went cold again", "i love how calm this is", "we should do a movie night sometime",
        "this map reminds me of my hometown", "new keyboard arrived today", "thank you for the shoutout last week",
        "the fireplace ambience is perfect", "i learned a lot from the cooking stream", "how long is the stream today?",
        "just here to relax after a long day", "your streams always cheer me up", "the puzzle pieces fit nicely",
        "are you going to the convention?", "my sister says hi", "soft music and good company"]
COZY_TAIL = ["", "", ":)", "<3", "haha", "tbh", "honestly", "lol", "^^", "HeyGuys"]
HAPPY_OPEN = ["LETS GOOO", "omg", "YES", "no way", "haha", "WOW", "hype", "yooo", "GG", "holy"]
HAPPY_BODY = ["that was amazing", "what a play", "so good", "you're on fire tonight", "best stream ever",
              "i love this", "clutch!!", "that was so fun", "incredible", "this run is great",
              "we are so back", "perfect timing", "that boss never stood a chance", "huge W", "so happy rn"]
HAPPY_EMOTE = ["PogChamp", "LUL", "<3", "Kreygasm", "HeyGuys", "", "", "!!", ":D", "VoHiYo"]
RAID_OPEN = ["hi", "hello", "hey", "yo", "greetings", "hiya", "good evening", "heyo"]
RAID_BODY = ["from the raid", "new friends", "Aiko, we're here", "raiders say hi", "raid squad checking in",
             "love this stream already", "what are we playing", "heard this stream is cozy", "the raid train arrived",
             "so happy to be here", "excited to hang out", "what a welcome"]
RAID_EMOTE = ["<3", "HeyGuys", "VoHiYo", "!!", "PogChamp", "", ":)"]
TOXIC_BODY = ["you're all a bunch of worthless idiots", "shut up you pathetic loser", "this chat is trash",
              "nobody likes you, get lost", "you're a disgusting idiot", "everyone here is a braindead moron",
              "go away you stupid clown", "ugly loser get out", "you people are pathetic", "what a garbage community"]
TOXIC_TAIL = ["", "lol", "seriously", "honestly", "idiots", "trash", "losers", "!!"]
COPYPASTA = "AIKO PLEASE NOTICE ME SENPAI AIKO PLEASE NOTICE ME SENPAI"
SAD_OPEN = ["oh no", "noo", "wait", "ugh", "honestly", "man", "omg", "oof"]
SAD_BODY = ["that's so sad", "i'm going to miss her", "i'm actually crying right now", "that's heartbreaking",
            "f in chat", "my heart hurts", "this is really sad", "i feel so sorry for you",
            "sending hugs, that's awful", "she died", "this made me tear up", "so sad it's over",
            "i can't believe she's gone", "that ending hurt"]
SAD_TAIL = ["", "BibleThump", ":(", "...", "rip"]


def _combo(*pools: list[str]) -> Callable[[random.Random], str]:
    return lambda rng: " ".join(x for x in (rng.choice(p) for p in pools) if x)


@dataclass(slots=True)
class Line:
    t: float
    user: str
    text: str
    kind: MessageKind = MessageKind.MESSAGE
    bits: int = 0


@dataclass(slots=True)
class Check:
    """One expectation: ``fn(trajectory) -> (passed, observed value)``."""

    name: str
    fn: Callable[["Trajectory"], tuple[bool, Any]]


@dataclass
class Scenario:
    name: str
    description: str
    lines: list[Line]
    checks: list[Check]
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class Trajectory:
    """The mood sampled once per second: ``t`` and, per sample, levels and expression."""

    baseline: dict[str, float]
    t: list[float] = field(default_factory=list)
    levels: list[dict[str, float]] = field(default_factory=list)
    expression: list[str] = field(default_factory=list)
    pleasure: list[float] = field(default_factory=list)

    def at(self, when: float) -> int:
        return min(range(len(self.t)), key=lambda i: abs(self.t[i] - when))

    def level(self, chem: str, when: float) -> float:
        return self.levels[self.at(when)][chem]

    def window(self, a: float, b: float) -> range:
        return range(self.at(a), self.at(b) + 1)

    def peak(self, chem: str, a: float, b: float) -> float:
        return max(self.levels[i][chem] for i in self.window(a, b))

    def low(self, chem: str, a: float, b: float) -> float:
        return min(self.levels[i][chem] for i in self.window(a, b))

    def expressions(self, a: float, b: float) -> set[str]:
        return {self.expression[i] for i in self.window(a, b)}


def _users(rng: random.Random, prefix: str, n: int) -> list[str]:
    return [f"{prefix}{rng.randrange(10**6):06d}" for _ in range(n)]


def _stream(rng: random.Random, start: float, end: float, rate: float, users: list[str],
            make: Callable[[random.Random], str]) -> list[Line]:
    """Poisson arrivals at ``rate`` msgs/s from ``users``, text from ``make``."""
    out, t = [], start
    while True:
        t += rng.expovariate(rate)
        if t >= end:
            return out
        out.append(Line(t, rng.choice(users), make(rng)))


def _pick(pool: list[str]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(pool)


def _never(traj: Trajectory, bad: set[str], a: float, b: float) -> tuple[bool, Any]:
    seen = traj.expressions(a, b)
    return not (seen & bad), sorted(seen)


def _some(traj: Trajectory, good: set[str], a: float, b: float) -> tuple[bool, Any]:
    seen = traj.expressions(a, b)
    return bool(seen & good), sorted(seen)


def _between(value: float, lo: float, hi: float) -> tuple[bool, Any]:
    return lo <= value <= hi, round(value, 3)


def scenarios(base: dict[str, float]) -> list[Scenario]:
    """The six scripted streams and their expectations (thresholds relative to the baseline)."""
    da, co, ox, se = base["dopamine"], base["cortisol"], base["oxytocin"], base["serotonin"]
    out = []

    rng = random.Random(1)
    lines = _stream(rng, 0, 300, 0.1, _users(rng, "cozy", 12), _combo(COZY, COZY_TAIL))
    out.append(Scenario("cozy_slow_chat", "5 min of friendly chat at 0.1 msg/s", lines, [
        Check("dopamine mildly up or flat at 300 s", lambda tr: _between(tr.level("dopamine", 300), da - 0.02, da + 0.2)),
        Check("cortisol stays near baseline", lambda tr: _between(tr.peak("cortisol", 0, 300), 0.0, co + 0.08)),
        Check("no negative expression", lambda tr: _never(tr, {"anger", "fear", "disgust", "sadness"}, 0, 300)),
    ]))

    rng = random.Random(2)
    lines = _stream(rng, 0, 120, 5.0, _users(rng, "fan", 150), _combo(HAPPY_OPEN, HAPPY_BODY, HAPPY_EMOTE))
    out.append(Scenario("busy_happy_chat", "2 min of happy chat at 5 msgs/s", lines, [
        Check("dopamine clearly up at 60 s", lambda tr: _between(tr.level("dopamine", 60), da + 0.1, 1.0)),
        Check("dopamine not saturated", lambda tr: _between(tr.peak("dopamine", 0, 120), 0.0, 0.9)),
        Check("cortisol stays low (not stressed)", lambda tr: _between(tr.peak("cortisol", 0, 120), 0.0, 0.3)),
        Check("joy shown by the end", lambda tr: _some(tr, {"joy"}, 100, 120)),
        Check("never angry or afraid", lambda tr: _never(tr, {"anger", "fear", "disgust"}, 0, 120 + LULL_S)),
    ]))

    rng = random.Random(3)
    lines = _stream(rng, 0, 60, 0.3, _users(rng, "reg", 10), _combo(COZY, COZY_TAIL))
    lines.append(Line(60.0, "bigstreamer", "bigstreamer is raiding with 250 viewers", MessageKind.RAID))
    lines += _stream(rng, 60.5, 100, 3.0, _users(rng, "raider", 120), _combo(RAID_OPEN, RAID_BODY, RAID_EMOTE))
    lines += _stream(rng, 100, 160, 0.3, _users(rng, "reg", 10), _combo(COZY, COZY_TAIL))
    out.append(Scenario("raid", "cozy chat, a raid at 60 s, 40 s of raiders greeting", lines, [
        Check("oxytocin up within 5 s of the raid", lambda tr: _between(tr.level("oxytocin", 65), ox + 0.15, 1.0)),
        Check("dopamine up during the greeting", lambda tr: _between(tr.peak("dopamine", 60, 100), da + 0.15, 1.0)),
        Check("joy or surprise within 15 s", lambda tr: _some(tr, {"joy", "surprise"}, 60, 75)),
        Check("cortisol stays low", lambda tr: _between(tr.peak("cortisol", 0, 160), 0.0, co + 0.1)),
    ]))

    rng = random.Random(4)
    regs = _users(rng, "reg", 20)
    trolls = _users(rng, "troll", 25)
    lines = _stream(rng, 0, 60, 1.0, regs, _combo(COZY, COZY_TAIL))
    wave = _stream(rng, 60, 100, 2.0, trolls, _combo(TOXIC_BODY, TOXIC_TAIL)) + _stream(rng, 60, 100, 1.0, regs, _combo(COZY, COZY_TAIL))
    lines += sorted(wave, key=lambda ln: ln.t)
    lines += _stream(rng, 100, 220, 1.0, regs, _combo(COZY, COZY_TAIL))
    out.append(Scenario("toxic_wave", "normal chat, 40 s where two thirds of messages are abuse, normal chat", lines, [
        Check("cortisol high by the wave's end", lambda tr: _between(tr.level("cortisol", 100), 0.5, 1.0)),
        Check("a negative expression during the wave", lambda tr: _some(tr, {"anger", "fear", "disgust"}, 60, 110)),
        Check("pleasure negative at the wave's end", lambda tr: (tr.pleasure[tr.at(100)] < 0, round(tr.pleasure[tr.at(100)], 3))),
        Check("cortisol recovering 5 min later", lambda tr: _between(tr.level("cortisol", 400), 0.0, co + 0.15)),
    ]))

    rng = random.Random(5)
    regs = _users(rng, "reg", 20)
    lines = _stream(rng, 0, 60, 1.0, regs, _combo(COZY, COZY_TAIL))
    flood = _stream(rng, 60, 120, 8.0, _users(rng, "pasta", 200), lambda r: COPYPASTA)
    flood += _stream(rng, 60, 120, 0.5, regs, _combo(COZY, COZY_TAIL))
    lines += sorted(flood, key=lambda ln: ln.t)
    lines += _stream(rng, 120, 180, 1.0, regs, _combo(COZY, COZY_TAIL))
    out.append(Scenario("spam_flood", "normal chat, 60 s copypasta flood at 8 msgs/s, normal chat", lines, [
        Check("cortisol up (annoyed)", lambda tr: _between(tr.level("cortisol", 120), co + 0.08, 0.6)),
        Check("spam does not cheer her up", lambda tr: _between(tr.peak("dopamine", 70, 120), 0.0, tr.level("dopamine", 60) + 0.05)),
        Check("no joy at the flood's end", lambda tr: _never(tr, {"joy"}, 110, 120)),
        Check("never afraid", lambda tr: _never(tr, {"fear"}, 60, 180)),
    ]))

    rng = random.Random(6)
    regs = _users(rng, "reg", 20)
    lines = _stream(rng, 0, 60, 0.5, regs, _combo(COZY, COZY_TAIL))
    lines += _stream(rng, 60, 120, 1.5, regs, _combo(SAD_OPEN, SAD_BODY, SAD_TAIL))
    out.append(Scenario("sad_then_lull", "cozy chat, 60 s of sad chat, then silence", lines, [
        Check("dopamine down at the sad phase's end", lambda tr: _between(tr.level("dopamine", 120), 0.0, da - 0.08)),
        Check("sadness shown during the sad phase", lambda tr: _some(tr, {"sadness"}, 60, 130)),
        Check("serotonin not above baseline", lambda tr: _between(tr.level("serotonin", 180), 0.0, se + 0.01)),
        Check("back to neutral in the lull", lambda tr: _some(tr, {"neutral"}, 120, 120 + LULL_S)),
        Check("never angry", lambda tr: _never(tr, {"anger"}, 0, 120 + LULL_S)),
    ]))
    return out


def analyse(lines_by_scenario: dict[str, list[Line]]) -> dict[str, list[Event]]:
    """Every scenario's lines through the real analyser, in one batch per scenario."""
    from companion.analyzer import Analyzer

    analyzer = Analyzer.load(character_names=["Aiko"])
    out = {}
    for name, lines in lines_by_scenario.items():
        msgs = [ChatMessage(text=ln.text, platform="twitch", channel=CHANNEL, user=ln.user, ts=1.7e9 + ln.t,
                            kind=ln.kind, bits=ln.bits) for ln in lines]
        events = []
        for i in range(0, len(msgs), 256):
            events += analyzer.analyze_messages(msgs[i:i + 256])
        out[name] = events
    return out


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def run_scenario(sc: Scenario, events: list[Event], config: CharacterConfig) -> dict[str, Any]:
    """Replay one scenario (clock = message time) and score its checks."""
    clock = _Clock()
    with tempfile.TemporaryDirectory() as tmp:
        engine = CharacterEngine(Path(tmp), config=config, clock=clock)
        engine.neuro.reset(0.0)
        base = dict(config.neurochem.baseline)
        traj = Trajectory(baseline=base)
        end = (sc.lines[-1].t if sc.lines else 0.0)
        horizon = end + LULL_S
        i, spam, mix_at_end = 0, 0, {}
        for sec in range(int(horizon) + 1):
            while i < len(sc.lines) and sc.lines[i].t <= sec:
                clock.t = sc.lines[i].t
                engine.process_batch([events[i]])
                spam += int(bool(engine._pool[CHANNEL][-1].spam_reason)) if CHANNEL in engine._pool else 0
                i += 1
                if i == len(sc.lines):
                    mix_at_end = engine.mood_state()["chat_mix"]
            clock.t = float(sec)
            st = engine.mood_state()
            traj.t.append(float(sec))
            traj.levels.append(dict(st["neurochemicals"]))
            traj.expression.append(st["expression"])
            traj.pleasure.append(float(st["pad"]["pleasure"]))
    checks = []
    for ck in sc.checks:
        ok, observed = ck.fn(traj)
        checks.append({"check": ck.name, "passed": bool(ok), "observed": observed})
    back = None
    for j, t in enumerate(traj.t):
        if t >= end and all(abs(traj.levels[j][c] - base[c]) < BASELINE_TOL for c in base):
            back = round(t - end, 1)
            break
    peaks = {c: round(max(lv[c] for lv in traj.levels), 3) for c in base}
    lows = {c: round(min(lv[c] for lv in traj.levels), 3) for c in base}
    return {
        "description": sc.description, "messages": len(sc.lines), "spam_share": round(spam / max(1, len(sc.lines)), 3),
        "passed": all(c["passed"] for c in checks), "checks": checks, "peak": peaks, "low": lows,
        "expressions": sorted(set(traj.expression)), "mix_at_end": mix_at_end, "end_expression_before_lull": traj.expression[traj.at(end)],
        "return_to_baseline_s": back,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="run only these scenarios")
    args = ap.parse_args(argv)
    config = CharacterConfig.from_dict()
    scs = [s for s in scenarios(config.neurochem.baseline) if not args.only or s.name in args.only]
    t0 = time.perf_counter()
    events = analyse({s.name: s.lines for s in scs})
    results = {s.name: run_scenario(s, events[s.name], config) for s in scs}
    out = {"benchmark": "character_scenarios", "baseline_tolerance": BASELINE_TOL, "lull_s": LULL_S,
           "scenarios": results, "all_passed": all(r["passed"] for r in results.values()),
           "elapsed_s": round(time.perf_counter() - t0, 1)}
    print(json.dumps(out, indent=1))
    return 0 if out["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
