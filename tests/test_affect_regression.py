"""One fast regression per affect task, on a fixed slice of its official test split, asserting a floor.

Slices are small so the file runs in well under a minute on 2 cores. Each slice floor sits a few
points under what the shipped artifacts score on that slice (values in docs/BENCHMARKS.md) and
well above chance, so a broken or badly retrained head fails.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from companion.affect import datasets as ds
from companion.affect import metrics as M

ARTIFACTS = Path(__file__).resolve().parents[1] / "companion" / "affect" / "artifacts"

pytestmark = pytest.mark.skipif(not (ARTIFACTS / "modules.json").exists(), reason="affect artifacts not trained")
N = 400


def _feats(affect_model, texts):
    return affect_model[0].encode(texts).features


def test_goemotions_and_ekman(affect_model, data_dir):
    go = ds.goemotions(data_dir, "test")
    ek = ds.ekman(data_dir, "test")
    out = affect_model[1].predict(_feats(affect_model, go.texts[:N]))
    th = np.asarray(affect_model[1].heads["emotions"].config["extra"]["thresholds"])
    # macro-F1 over 28 labels is unstable on 400 rows (rare labels); micro-F1 is the stable check
    assert M.f1_score(go.y[:N], out.emotions >= th, average="micro") >= 0.48
    th_e = np.asarray(affect_model[1].heads["ekman"].config["extra"]["thresholds"])
    assert M.multilabel_macro_f1(out.ekman, ek.y[:N], th_e) >= 0.53


def test_emobank_pad(affect_model, data_dir):
    from companion.affect.ensemble import score_lexicons
    from companion.affect.lexicons import EmojiScorer, EmoteScorer, VaderScorer

    eb = ds.emobank(data_dir, "test")
    lex = score_lexicons(eb.texts[:N], VaderScorer(), EmojiScorer.load(ARTIFACTS / "emoji_sentiment.json"), EmoteScorer())
    pad = affect_model[1].predict(_feats(affect_model, eb.texts[:N]), lex).pad
    assert M.pearson(pad[:, 0], eb.y[:N, 0]) >= 0.65
    assert M.pearson(pad[:, 1], eb.y[:N, 1]) >= 0.40


def test_davidson(affect_model, data_dir):
    ids = ds.davidson_split_ids(data_dir, ARTIFACTS / "davidson_split.json")
    dv = ds.davidson(data_dir, "test", ids)
    pred = affect_model[1].predict(_feats(affect_model, dv.texts[:N])).toxicity.argmax(1)
    assert M.weighted_f1(dv.y[:N], pred) >= 0.85


def test_intimacy_and_politeness(affect_model, data_dir):
    it = ds.intimacy(data_dir, "test")
    assert M.pearson(affect_model[1].predict(_feats(affect_model, it.texts)).intimacy, it.y) >= 0.70
    po = ds.politeness(data_dir, "wikipedia", "test")
    assert M.pearson(affect_model[1].predict(_feats(affect_model, po.texts[:200])).politeness, po.y[:200]) >= 0.55


def test_meld_with_context(affect_model, data_dir):
    from companion.affect.train import gather, meld_windows

    me = ds.meld(data_dir, "test")
    keep = me.meta["dialogue"] < np.unique(me.meta["dialogue"])[40]
    sl = ds.Split([t for t, k in zip(me.texts, keep) if k], me.y[keep],
                  {"dialogue": me.meta["dialogue"][keep], "speaker": [s for s, k in zip(me.meta["speaker"], keep) if k]})
    out = affect_model[1].predict(_feats(affect_model, sl.texts))
    idx, same, pad = meld_windows(sl, affect_model[1].mood.config["window"])
    e, s = affect_model[1].mood_predict(gather(out.projected, idx), gather(out.aux(), idx), same, pad)
    assert M.weighted_f1(sl.y[:, 0], e.argmax(1)) >= 0.55
    assert M.weighted_f1(sl.y[:, 1], s.argmax(1)) >= 0.60
