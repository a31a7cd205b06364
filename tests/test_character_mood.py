"""Mood ODE: step responses, decay half-lives, bounds, determinism, persistence, derived outputs."""
from __future__ import annotations

import json
import math
import random

import pytest

from companion.character import CharacterConfig, CharacterEngine
from companion.character.derived import conditioning_tokens, pad_from, sampling_from
from companion.character.expression import ExpressionState
from companion.character.neurochem import Neurochemistry
from companion.character.stimulus import Stimulus, stimulus_from
from companion.messages import MessageKind
from tests.character_fakes import event

CFG = CharacterConfig.from_dict()
CHEMS = ("dopamine", "serotonin", "cortisol", "oxytocin")


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def fresh(t: float = 0.0) -> Neurochemistry:
    n = Neurochemistry(CFG.neurochem)
    n.reset(t)
    return n


@pytest.mark.parametrize("chem", ["dopamine", "serotonin", "cortisol", "oxytocin"])
def test_decay_half_life_to_own_baseline(chem):
    n = fresh()
    base = CFG.neurochem.baseline[chem]
    n.set_level(chem, 1.0, 0.0)
    half = CFG.neurochem.half_life_s[chem]
    n.advance(half)
    # one half-life halves the distance to baseline
    assert n.state.levels[chem] == pytest.approx(base + (1.0 - base) / 2, abs=1e-9)
    n.advance(3 * half)
    assert n.state.levels[chem] == pytest.approx(base + (1.0 - base) / 8, abs=1e-9)
    n.advance(100 * half)
    assert n.state.levels[chem] == pytest.approx(base, abs=1e-9)


def test_half_lives_differ_per_chemical():
    n = fresh()
    for chem in ("dopamine", "cortisol"):
        n.set_level(chem, 1.0, 0.0)
    n.advance(CFG.neurochem.half_life_s["dopamine"])
    da_gap = n.state.levels["dopamine"] - CFG.neurochem.baseline["dopamine"]
    co_gap = n.state.levels["cortisol"] - CFG.neurochem.baseline["cortisol"]
    assert da_gap / (1 - CFG.neurochem.baseline["dopamine"]) == pytest.approx(0.5)
    assert co_gap / (1 - CFG.neurochem.baseline["cortisol"]) > 0.6  # cortisol lingers longer


@pytest.mark.parametrize("term,chem,gain", [
    ("event_hype", "dopamine", "dopamine_hype"), ("bond_event", "oxytocin", "oxytocin_bond"),
    ("insult", "cortisol", "cortisol_insult"),
])
def test_event_impulse_matches_exact_solution(term, chem, gain):
    n = fresh()
    before = dict(n.state.levels)
    n.apply(Stimulus(**{term: 1.0}), 0.0)
    g = CFG.neurochem.event_gain[gain]
    assert n.state.levels[chem] == pytest.approx(1 - (1 - before[chem]) * math.exp(-g))
    for other in set(before) - {chem}:
        assert n.state.levels[other] == before[other]


@pytest.mark.parametrize("term,chem,sign", [
    ("positive", "dopamine", 1), ("hype", "dopamine", 1), ("negative", "dopamine", -1),
    ("warm", "oxytocin", 1), ("toxic", "cortisol", 1), ("anger", "cortisol", 1),
])
def test_affect_terms_drive_over_time_not_instantly(term, chem, sign):
    n = fresh()
    before = dict(n.state.levels)
    n.apply(Stimulus(**{term: 1.0}), 0.0)
    assert n.state.levels == before  # a chat line is not an event: it joins the mix
    for i in range(1, 60):
        n.apply(Stimulus(**{term: 1.0}), i * 0.5)
    moved = n.state.levels[chem] - before[chem]
    assert sign * moved > 0.05
    for other in set(before) - {chem, "serotonin"}:
        assert n.state.levels[other] == pytest.approx(before[other])


def _steady(rate: float, seconds: float = 600.0, **terms: float) -> dict[str, float]:
    n = fresh()
    for i in range(int(seconds * rate)):
        n.apply(Stimulus(**terms), i / rate)
    return dict(n.state.levels)


def test_mood_follows_the_mix_not_the_volume():
    """Ten times the messages with the same affect barely changes the mood and never pins it to
    the ceiling; changing the mix at the same volume moves it a lot."""
    happy_slow = _steady(0.5, positive=0.6, valence=0.5)
    happy_busy = _steady(5.0, positive=0.6, valence=0.5)
    sad_busy = _steady(5.0, negative=0.6, valence=-0.5)
    base = CFG.neurochem.baseline["dopamine"]
    assert happy_busy["dopamine"] < 0.85 and happy_busy["cortisol"] == pytest.approx(CFG.neurochem.baseline["cortisol"])
    assert happy_busy["dopamine"] - happy_slow["dopamine"] < 0.12  # volume: bounded by the activity saturation
    assert happy_slow["dopamine"] > base + 0.08
    assert sad_busy["dopamine"] < base - 0.15  # mix: the same volume of sad chat pulls the other way
    # 50 msgs/s is no different from 5 msgs/s
    assert _steady(50.0, 60.0, positive=0.6)["dopamine"] == pytest.approx(_steady(5.0, 60.0, positive=0.6)["dopamine"], abs=0.03)


def test_spam_share_below_tolerance_does_not_stress():
    n, m = fresh(), fresh()
    for i in range(600):
        spam = i % 3 == 2  # a third of chat near-duplicates: ordinary
        n.apply(Stimulus(positive=0.5, spam=1.0 if spam else 0.0), i * 0.2)
        m.apply(Stimulus(spam=1.0), i * 0.2)  # a flood of copies
    co = CFG.neurochem.baseline["cortisol"]
    assert n.state.levels["cortisol"] == pytest.approx(co, abs=1e-6)
    assert m.state.levels["cortisol"] > co + 0.15
    assert m.state.levels["dopamine"] <= CFG.neurochem.baseline["dopamine"] + 1e-9  # copies never cheer


def test_toxic_wave_is_one_event_and_rearms():
    n = fresh()
    co = CFG.neurochem.baseline["cortisol"]
    n.apply(Stimulus(toxic=0.9), 0.0)
    assert n.state.levels["cortisol"] == co  # one toxic line is not a wave
    for i in range(1, 6):
        n.apply(Stimulus(toxic=0.9), i * 0.5)
    assert not n.state.wave_armed
    jumped = n.state.levels["cortisol"]
    assert jumped > co + 0.25
    for i in range(6, 200):  # the wave goes on: no further impulses, only the drive
        n.apply(Stimulus(toxic=0.9), i * 0.5)
    assert not n.state.wave_armed
    for i in range(200, 400):  # it ends: clean chat re-arms the latch
        n.apply(Stimulus(positive=0.3), i * 0.5)
    assert n.state.wave_armed


def test_sustained_positive_chat_raises_serotonin_brief_does_not():
    brief, sustained = fresh(), fresh()
    brief.apply(Stimulus(valence=1.0), 0.0)
    brief.advance(600.0)
    for i in range(60):
        sustained.apply(Stimulus(valence=0.9), i * 10.0)
    sustained.advance(600.0)
    base = CFG.neurochem.baseline["serotonin"]
    assert sustained.state.levels["serotonin"] - base > 0.05
    assert brief.state.levels["serotonin"] - base < 0.02
    neg = fresh()
    for i in range(60):
        neg.apply(Stimulus(valence=-0.9), i * 10.0)
    neg.advance(600.0)
    assert neg.state.levels["serotonin"] < base - 0.02


def test_bounds_under_random_barrage():
    rng = random.Random(7)
    n = fresh()
    t = 0.0
    for _ in range(2000):
        t += rng.random() * 5
        s = Stimulus(**{k: rng.random() * 3 for k in ("positive", "hype", "negative", "warm", "bond_event",
                                                        "toxic", "anger", "spam", "event_hype", "insult")},
                     valence=rng.uniform(-3, 3))
        n.apply(s, t)
        if rng.random() < 0.1:
            n.nudge(rng.choice(list(n.state.levels)), rng.uniform(-2, 2), t)
        for v in n.state.levels.values():
            assert 0.0 <= v <= 1.0


def test_determinism():
    def run() -> dict:
        n = fresh()
        rng = random.Random(3)
        for i in range(300):
            n.apply(Stimulus(positive=rng.random(), toxic=rng.random() * 0.3, valence=rng.uniform(-1, 1)), i * 1.7)
        n.advance(1000.0)
        return n.state.to_dict()
    assert run() == run()


def test_stimulus_from_degraded_record_is_neutral():
    ev = event("hello", sentiment=None, emotions=None, toxicity=None)
    ev.record.degraded = True
    s = stimulus_from(ev.message, ev.record)
    assert (s.positive, s.toxic, s.anger, s.warm, s.valence) == (0.0, 0.0, 0.0, 0.0, 0.0)
    s2 = stimulus_from(ev.message, None)
    assert s2.positive == 0.0


def test_events_drive_oxytocin_and_toxicity_cortisol(tmp_path):
    clock = Clock()
    ch = CharacterEngine(tmp_path, clock=clock)
    base = ch.mood_state()["neurochemicals"]
    ch.process_batch([event("x subscribed", kind=MessageKind.SUB, user="subber")])
    after_sub = ch.mood_state()["neurochemicals"]
    assert after_sub["oxytocin"] > base["oxytocin"] + 0.1
    assert after_sub["dopamine"] > base["dopamine"]
    clock.t += 1
    ch.process_batch([event("Aiko you are garbage", user="troll", toxicity=0.95, flagged=True, sentiment=-0.8,
                            emotions={"anger": 0.8})])
    assert ch.mood_state()["neurochemicals"]["cortisol"] > base["cortisol"] + 0.3


def test_pad_sampling_tokens():
    base = CFG.neurochem.baseline
    assert pad_from(dict(base), base).as_tuple() == (0.0, 0.0, 0.0)
    happy = dict(base, dopamine=0.9, oxytocin=0.7)
    pad = pad_from(happy, base)
    assert pad.pleasure > 0.5 and pad.arousal > 0.5
    stressed = dict(base, cortisol=0.9)
    assert pad_from(stressed, base).pleasure < -0.5
    hot = sampling_from(dict(base, dopamine=1.0), CFG.sampling)
    cold = sampling_from(dict(base, dopamine=0.0), CFG.sampling)
    assert hot.temperature > cold.temperature
    assert sampling_from(stressed, CFG.sampling).max_tokens < sampling_from(dict(base), CFG.sampling).max_tokens
    toks = conditioning_tokens({"dopamine": 0.75, "serotonin": 0.6, "cortisol": 0.1, "oxytocin": 0.4})
    assert toks.startswith("<DA=0.75><SE=0.60><CO=0.10><OX=0.40>")


def test_expression_hysteresis_no_flicker():
    st = ExpressionState(CFG.expression, since=0.0)
    joyful = (0.75, 0.5, 0.3)
    assert st.update(joyful, 10.0) == "joy"
    # a PAD halfway between joy and neutral oscillating slightly does not flip every tick
    labels = []
    for i in range(40):
        wobble = 0.02 if i % 2 else -0.02
        labels.append(st.update((0.37 + wobble, 0.25 + wobble, 0.15), 10.5 + i * 0.25))
    assert len(set(labels)) == 1
    # a clear change after the dwell time does switch
    assert st.update((-0.55, 0.6, 0.35), 30.0) == "anger"
    # and immediately flipping back is refused until min_dwell_s has passed
    assert st.update(joyful, 30.5) == "anger"
    assert st.update(joyful, 30.0 + CFG.expression.min_dwell_s) == "joy"


def test_expression_reaches_every_label():
    st = ExpressionState(CFG.expression, since=-100.0)
    from companion.character.expression import PROTOTYPES
    t = 0.0
    for label, proto in PROTOTYPES.items():
        t += 100
        assert st.update(proto, t) == label


def test_persistence_roundtrip_and_decay_over_downtime(tmp_path):
    clock = Clock(5000.0)
    ch = CharacterEngine(tmp_path, clock=clock)
    ch.update_emotion("joy", 1.0, cortisol=0.5, mode="set")
    saved = ch.mood_state()["neurochemicals"]
    assert saved["cortisol"] == 0.5
    again = CharacterEngine(tmp_path, clock=clock)
    assert again.mood_state()["neurochemicals"] == saved
    clock.t += 10 * 3600  # a long break: everything relaxed to baseline
    later = CharacterEngine(tmp_path, clock=clock)
    assert later.mood_state()["neurochemicals"] == pytest.approx(CFG.neurochem.baseline, abs=1e-3)


def test_corrupt_state_is_set_aside(tmp_path):
    path = tmp_path / "character_state.json"
    path.write_text("{not json")
    ch = CharacterEngine(tmp_path)
    assert ch.mood_state()["neurochemicals"] == pytest.approx(CFG.neurochem.baseline)
    assert (tmp_path / "character_state.json.bad").exists()


def test_config_override_file_and_bad_values(tmp_path):
    (tmp_path / "character.json").write_text(json.dumps({"name": "Miko", "neurochem": {"half_life_s": {"dopamine": 10}}}))
    cfg = CharacterConfig.load(tmp_path)
    assert cfg.name == "Miko" and cfg.neurochem.half_life_s["dopamine"] == 10
    assert cfg.neurochem.half_life_s["cortisol"] == CFG.neurochem.half_life_s["cortisol"]
    with pytest.raises(ValueError):
        CharacterConfig.from_dict({"neurochem": {"baseline": {"dopamine": 2.0}}})
    with pytest.raises(ValueError):
        CharacterConfig.from_dict({"pick": {"nonsense": 1}})


def test_update_emotion_validation(tmp_path):
    ch = CharacterEngine(tmp_path, clock=Clock())
    with pytest.raises(ValueError):
        ch.update_emotion("bogus")
    with pytest.raises(ValueError):
        ch.update_emotion(dopamine=0.1, mode="sideways")
    st = ch.update_emotion(dopamine=2.0, mode="delta")
    assert st["neurochemicals"]["dopamine"] == 1.0


def test_exact_solution_matches_scipy_solve_ivp():
    """Cross-check the closed form (mid-step hold, steps <= 1 s) against a numerical solve of the
    same ODE with the mixes' weights decaying continuously."""
    from scipy.integrate import solve_ivp

    from companion.character.neurochem import activity

    nc = CFG.neurochem
    n = fresh()
    n.set_level("serotonin", 0.3, 0.0)
    n.set_level("dopamine", 0.9, 0.0)
    n.set_level("cortisol", 0.2, 0.0)
    for i in range(40):  # build up both mixes, then let the drives fade
        n.apply(Stimulus(positive=0.7, negative=0.2, warm=0.4, anger=0.3, toxic=0.1, valence=0.8), i * 0.25)
    n.advance(10.0)
    st = n.state
    y0 = [st.levels[c] for c in CHEMS] + [st.fast.weight, st.slow.weight]
    fm, v = {k: n.excess(k) for k in st.fast.sums}, st.slow.mean("valence")  # constant between messages
    g, half = nc.gain, nc.rate_half_msgs_s
    k = {c: math.log(2) / nc.half_life_s[c] for c in CHEMS}

    def rhs(t, y):
        lv, wf, ws = dict(zip(CHEMS, y[:4])), y[4], y[5]
        af = activity(wf / nc.fast_tau_s, half)
        u = {"dopamine": af * (g["dopamine_positive"] * fm["positive"] + g["dopamine_hype"] * fm["hype"]),
             "serotonin": af * g["serotonin_rate"] * max(0.0, v),
             "cortisol": af * (g["cortisol_toxic"] * fm["toxic"] + g["cortisol_anger"] * fm["anger"]),
             "oxytocin": af * g["oxytocin_warm"] * fm["warm"]}
        w = {"dopamine": af * g["dopamine_negative"] * fm["negative"],
             "serotonin": af * g["serotonin_drain"] * max(0.0, -v), "cortisol": 0.0, "oxytocin": 0.0}
        d = [-k[c] * (lv[c] - nc.baseline[c]) + u[c] * (1 - lv[c]) - w[c] * lv[c] for c in CHEMS]
        return d + [-wf / nc.fast_tau_s, -ws / nc.slow_tau_s]

    sol = solve_ivp(rhs, (10.0, 400.0), y0, rtol=1e-10, atol=1e-12)
    n.advance(400.0)
    for i, c in enumerate(CHEMS):
        assert n.state.levels[c] == pytest.approx(sol.y[i, -1], abs=1e-4), c
    assert n.state.fast.weight == pytest.approx(sol.y[4, -1], rel=1e-6)
