"""The toxicity head's lexical branch, the harassment / identity-attack phrase rules, the hate-bias
choice, and regression floors of the shipped artifact on fixed slices of GameTox, CONDA and the
chat dev set (each a little under what the shipped artifact measures: docs/BENCHMARKS.md)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from companion.affect.toxicity import FlagThresholds, assemble, rule_hits
from companion.affect.toxicity_lexicon import harassment_phrase, identity_attack_phrase, target_of
from companion.affect.toxicity_ngrams import NgramSpec, WideDeepHead, batch_ids, bag_rows, message_ids
from companion.records import TOXICITY_CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "companion" / "affect" / "artifacts"
DATA = ROOT.parent / "shared" / "data"
TH = FlagThresholds(targeted=0.9, identity=0.9)
LOW = np.array([0.05, 0.15, 0.8])


# --- the n-gram branch ---------------------------------------------------------------------------
def test_ngram_ids_are_stable_and_fold_case_and_runs():
    spec = NgramSpec(buckets=1 << 16)
    a = message_ids("You are a LOOOSER", spec)
    assert a == message_ids("you are a looser", spec)  # case and runs of 3+ fold
    assert a != message_ids("you are a winner", spec)
    assert all(0 <= i < spec.buckets for i in a)
    # CRC-32, not Python's salted hash: the same ids in every process
    assert message_ids("gg", spec) == message_ids("gg", spec) and len(message_ids("gg", spec)) == 1 + 3 + 2 + 1


def test_batch_ids_offsets_and_bag_rows():
    spec = NgramSpec()
    texts = ["noob team", "", "ez"]
    ids, off = batch_ids(texts, spec)
    assert len(off) == 4 and off[0] == 0 and off[1] == off[2]  # the empty message has an empty bag
    assert list(ids[off[2]:off[3]]) == message_ids("ez", spec)
    flat, starts, w = bag_rows(ids, off, np.array([2, 0]))
    assert starts.tolist() == [0, off[3] - off[2]] and len(flat) == len(w) == off[3] - off[2] + off[1]


def test_wide_deep_head_without_bags_is_the_mlp_and_round_trips(tmp_path):
    torch.manual_seed(0)
    m = WideDeepHead(8, 20, hidden=16, ngrams=NgramSpec(buckets=1024).to_dict(), wide_cols=list(range(14, 20))).eval()
    with torch.no_grad():
        m.wide.weight.normal_()
    x = torch.randn(3, 8)
    texts = ["you noob", "gg", "ez game"]
    with torch.no_grad():
        deep, both = m(x), m(x, m.bags(texts))
    assert torch.allclose(deep[:, :14], both[:, :14])  # the branch adds only to its views' columns
    assert not torch.allclose(deep[:, 14:], both[:, 14:])
    m.save(tmp_path / "h")
    from companion.affect.modules import SavedModule

    back = SavedModule.load(tmp_path / "h")
    assert isinstance(back, WideDeepHead) and back.spec == m.spec and not back.adds_to(0, 10)
    with torch.no_grad():
        assert torch.allclose(back(x, back.bags(texts)), both, atol=2e-2)  # stored as float16


# --- phrase rules -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "everyone go report him", "lets mass report her", "spam her dms", "i'll ruin your career",
    "i know your real name and i'll leak your address", "you can't ban me", "stop streaming forever loser",
])
def test_harassment_phrases_flag_with_a_person_target(text):
    t = assemble(LOW, np.zeros(7), text, rule_hits(text), TH)
    assert harassment_phrase(text) and t.flagged and t.target == "person"


@pytest.mark.parametrize("text", [
    "women can't play games", "girls shouldn't be streamers", "go back to mexico", "muslims are all terrorists",
    "typical woman", "trans people are mentally ill", "immigrants should be deported",
])
def test_identity_attack_phrases_flag_with_a_group_target(text):
    t = assemble(LOW, np.zeros(7), text, rule_hits(text), TH)
    assert identity_attack_phrase(text) and t.flagged and t.target == "group"


@pytest.mark.parametrize("text", [
    "report the hacker", "everyone spam W in chat", "raid incoming", "lets raid someone after", "trans rights",
    "the chinese server is laggy", "women's finals are on tonight", "i'm gay and love this stream",
    "go back to the shop", "stop streaming and go to bed lol", "fuck this boss", "the devs hate us KEKW",
    "women can't wait for the update",
])
def test_ordinary_lines_near_the_rules_do_not_flag(text):
    assert not harassment_phrase(text) and not identity_attack_phrase(text)
    assert not assemble(LOW, np.zeros(7), text, rule_hits(text), TH).flagged


def test_untargeted_swearing_is_no_target():
    for text in ("this game is fucking garbage", "holy shit that was close", "wtf was that"):
        assert target_of(text) == "none"
        assert not assemble(LOW, np.zeros(7), text, rule_hits(text), TH).flagged


# --- the hate-bias rule -------------------------------------------------------------------------
def test_hate_bias_reaches_the_floors_on_a_fresh_sample():
    from companion.affect.train_toxicity import hate_bias_bootstrap

    def sample(seed: int) -> tuple[np.ndarray, np.ndarray]:
        # hate is under-predicted by 1 logit: only a positive bias reaches the recall floor
        rng = np.random.default_rng(seed)
        y = np.array([0] * 150 + [1] * 1500 + [2] * 350)
        return np.eye(3)[y] * np.array([1.2, 2.5, 2.5]) - np.array([1.0, 0, 0]) + rng.normal(0, 1.0, (len(y), 3)), y

    def floors(logits: np.ndarray, y: np.ndarray, b: float) -> tuple[float, float]:
        pred = (logits + np.array([b, 0, 0])).argmax(1)
        tp = ((pred == 0) & (y == 0)).sum()
        return tp / max((pred == 0).sum(), 1), tp / (y == 0).sum()

    b, rep = hate_bias_bootstrap(*sample(0), n_boot=300)
    assert b > 0 and rep["dev"]["share"] > 0.5
    assert floors(*sample(0), 0.0)[1] < 0.5  # without the bias, recall misses its floor
    prec, rec = floors(*sample(1), b)
    assert prec >= 0.40 and rec >= 0.50


# --- the shipped artifact on fixed slices -------------------------------------------------------
needs_data = pytest.mark.skipif(not ((ARTIFACTS / "modules.json").exists() and (DATA / "gametox").exists()),
                                reason="affect artifacts or ../shared/data missing")


@pytest.fixture(scope="module")
def shipped():
    os.environ["HF_HUB_OFFLINE"] = "1"
    torch.set_num_threads(1)
    from companion.affect.features_cache import DEFAULT_CACHE, EncoderSpec
    from companion.affect.heads import AffectHeads
    from companion.affect.lora import artifact_adapter

    return AffectHeads.load(ARTIFACTS), EncoderSpec(artifact_adapter(ARTIFACTS), "bf16"), DEFAULT_CACHE


def _views(shipped, name: str, texts: list[str]) -> dict[str, np.ndarray]:
    from companion.affect.features_cache import cached_features
    from companion.affect.train_toxicity import bags_for, head_views

    heads, spec, cache = shipped
    tox = heads.heads["toxicity"]
    with torch.no_grad():
        x = heads.norm(torch.from_numpy(cached_features(name, texts, cache, spec)))
    return head_views(tox, x, 0.0, bags_for(tox, texts))


@needs_data
def test_gametox_test_slice_toxic_f1_floor(shipped):
    from companion.affect import datasets as ds
    from companion.affect import metrics as M

    sp = ds.gametox(DATA, "test", ds.gametox_split_ids(DATA, ARTIFACTS / "gametox_split.json"))
    texts, y = sp.texts[:300], sp.y[:300]
    p = 1 - _views(shipped, "gametox_test_slice300", texts)["gametox"][:, 0]
    t = shipped[0].heads["toxicity"].config["extra"]["gametox_toxic_threshold"]
    assert M.f1_score(y != 0, p >= t) >= 0.80  # shipped: 0.847 (56 toxic rows)


@needs_data
def test_conda_valid_slice_intent_floor(shipped):
    from companion.affect import datasets as ds
    from companion.affect import metrics as M

    sp = ds.conda(DATA, "valid")
    texts, y = sp.texts[:300], sp.y[:300]
    pred = _views(shipped, "conda_valid_slice300", texts)["conda"].argmax(1)
    assert M.macro_f1(y, pred) >= 0.72  # shipped: 0.759


@needs_data
def test_chat_dev_targeted_recall_and_false_flags(shipped):
    from companion.affect.toxicity_eval import chat_set_rows

    heads, spec, cache = shipped
    rows = chat_set_rows(heads, "chat_dev", cache, spec)
    assert rows["targeted_recall"] >= 0.90  # shipped: 0.963
    assert rows["ordinary_flagged"] <= 0.01 and rows["notices_flagged"] == 0
