"""Toxicity categories, target and flagged: the assembly rules, then the shipped analyser.

``flagged`` means "a moderator would act": targeted harm or a severe category. Swearing aimed at
no one never flags; system notices and sub/raid/bits events are not scored as chat.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from companion.affect.toxicity import FlagThresholds, assemble, rule_hits
from companion.affect.toxicity_lexicon import target_of
from companion.messages import ChatMessage, MessageKind
from companion.records import TOXICITY_CATEGORIES, TOXICITY_TARGETS

ARTIFACTS = Path(__file__).resolve().parents[1] / "companion" / "affect" / "artifacts"
TH = FlagThresholds(targeted=0.5, identity=0.9)
_I = {c: i for i, c in enumerate(TOXICITY_CATEGORIES)}


def _cats(**kw) -> np.ndarray:
    c = np.zeros(len(TOXICITY_CATEGORIES))
    for k, v in kw.items():
        c[_I[k]] = v
    return c


NONE_LIKELY = np.array([0.05, 0.15, 0.8])


def test_profanity_alone_never_flags_even_at_full_score():
    t = assemble(NONE_LIKELY, _cats(profanity=1.0), "this boss is fucking impossible",
                 rule_hits("this boss is fucking impossible"), TH)
    assert not t.flagged and t.target == "none" and t.categories["profanity"] >= 0.95


def test_targeted_insult_flags_and_untargeted_does_not():
    hit = assemble(NONE_LIKELY, _cats(insult=0.7), "you are an idiot", rule_hits("you are an idiot"), TH)
    assert hit.flagged and hit.target == "person"
    miss = assemble(NONE_LIKELY, _cats(insult=0.7), "this game is stupid", rule_hits("this game is stupid"), TH)
    assert not miss.flagged and miss.target == "none"
    low = assemble(NONE_LIKELY, _cats(insult=0.3), "you are so slow", rule_hits("you are so slow"), TH)
    assert not low.flagged and low.target == "none"  # the target is reported only for harm
    # an insult word aimed at someone is a rule: it flags whatever the head says
    rule = assemble(NONE_LIKELY, _cats(insult=0.1), "you are an idiot", rule_hits("you are an idiot"), TH)
    assert rule.flagged and rule.categories["insult"] >= 0.95


def test_rules_raise_severe_categories_without_a_model():
    t = assemble(None, None, "kys", rule_hits("kys"), TH)
    assert t.flagged and t.categories["self_harm"] >= 0.95 and t.score is None
    t = assemble(None, None, "send nudes", rule_hits("send nudes"), TH)
    assert t.flagged and t.categories["sexual"] >= 0.95
    t = assemble(None, None, "I'm going to come to your house", rule_hits("I'm going to come to your house"), TH)
    assert t.flagged and t.categories["threat"] >= 0.95


def test_notice_lines_are_not_scored():
    text = "X subscribed with Prime. They've subscribed for 5 months!"
    t = assemble(np.array([0.9, 0.05, 0.05]), _cats(insult=0.99, identity_attack=0.99), text, rule_hits(text), TH)
    assert not t.flagged and t.label == "none" and t.score == 0.0 and max(t.categories.values()) == 0.0


@pytest.mark.parametrize("text,target", [
    ("you are an idiot", "person"), ("nobody likes you loser", "person"), ("@kai_ttv trash", "person"),
    ("women can't play games", "group"), ("shut up", "person"), ("this boss is impossible", "none"),
    ("he is such a clown", "person"),
])
def test_target_rules(text, target):
    assert target_of(text) == target


# --- the shipped analyser -----------------------------------------------------------------------
needs_artifacts = pytest.mark.skipif(not (ARTIFACTS / "modules.json").exists(), reason="affect artifacts not trained")
NOT_FLAGGED = ["windows 11 is so fuckin bad man", "this boss is fucking impossible", "the devs hate us KEKW",
               "omg is this the final area Pog", "you're cracked at this", "hes planting omg", "holy shit",
               "what the fuck was that", "gg wp", "kill the boss"]
FLAGGED = ["you are an idiot", "nobody likes you loser", "kys", "send nudes", "I'm going to come to your house"]


@pytest.fixture(scope="module")
def analyzer():
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    torch.set_num_threads(1)
    from companion import Analyzer

    return Analyzer.load()


@needs_artifacts
def test_record_fields(analyzer):
    for r in analyzer.analyze_batch(["you are an idiot", "gg"]):
        assert set(r.toxicity.categories) == set(TOXICITY_CATEGORIES)
        assert all(0.0 <= v <= 1.0 for v in r.toxicity.categories.values())
        assert r.toxicity.target in TOXICITY_TARGETS
    r = analyzer.analyze_batch(["you are an idiot"])[0]
    assert r.toxicity.target == "person" and r.toxicity.categories["insult"] >= 0.5


@needs_artifacts
def test_untargeted_swearing_and_game_talk_do_not_flag(analyzer):
    recs = analyzer.analyze_batch(NOT_FLAGGED)
    assert not [r.text for r in recs if r.toxicity.flagged]


@needs_artifacts
def test_targeted_toxicity_flags(analyzer):
    recs = analyzer.analyze_batch(FLAGGED)
    assert [r.text for r in recs if not r.toxicity.flagged] == []


@needs_artifacts
def test_sub_raid_bits_are_not_scored_as_chat(analyzer):
    plain = analyzer.analyze_batch(["X subscribed with Prime. They've subscribed for 5 months!",
                                    "X is gifting 5 Tier 1 Subs to Y's community!", "X just raided with 120 viewers"])
    assert all(not r.toxicity.flagged and r.toxicity.label == "none" for r in plain)
    toxic = "you are an idiot kys"
    msgs = [ChatMessage(text=toxic, kind=k) for k in (MessageKind.SUB, MessageKind.RAID, MessageKind.BITS,
                                                       MessageKind.MESSAGE)]
    recs = [e.record for e in analyzer.analyze_messages(msgs, deep=True)]
    assert [r.toxicity.flagged for r in recs] == [False, False, False, True]
    lex = [e.record for e in analyzer.analyze_messages(msgs, deep=False)]
    assert [r.toxicity.flagged for r in lex] == [False, False, False, True]
