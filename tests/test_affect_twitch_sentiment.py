"""Twitch-native sentiment and Ekman on conversation (issue 12): fixed slices with floors a few points
under what the shipped artifacts score on them (docs/BENCHMARKS.md), plus the pieces that produce them.

- The whole saved Twitch-Sentiment test split (200 messages) through the shipped ensemble, exactly
  as ``companion.affect.evaluate`` scores it (``sentiment_eval.twitch_rows``).
- The first 600 MELD test utterances, one at a time, through ``ekman.label``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from companion.affect import datasets as ds
from companion.affect import metrics as M
from companion.affect.modules import MLPHead

ARTIFACTS = Path(__file__).resolve().parents[1] / "companion" / "affect" / "artifacts"
needs_artifacts = pytest.mark.skipif(not (ARTIFACTS / "modules.json").exists(), reason="affect artifacts not trained")
MELD_N = 600


def test_average_heads_logits_are_the_mean():
    from companion.affect.twitch_sentiment import average_heads

    torch.manual_seed(0)
    heads = [MLPHead(16, 3, hidden=8, dropout=0.2).eval() for _ in range(3)]
    x = torch.randn(5, 16)
    merged = average_heads(heads)
    with torch.no_grad():
        want = torch.stack([h(x) for h in heads]).mean(0)
        assert merged.config["hidden"] == 24
        assert torch.allclose(merged(x), want, atol=1e-5)
        # not just any head: a single member differs
        assert not torch.allclose(merged(x), heads[0](x), atol=1e-3)


def test_twitch_split_is_disjoint_and_covers_the_set(data_dir):
    split = json.loads((ARTIFACTS / "twitch_sentiment_split.json").read_text())
    parts = [set(split[s]) for s in ("train", "dev", "test")]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    test = ds.twitch_sentiment(data_dir, "test", split)
    assert len(test.y) == len(split["test"]) and len(test.y) >= 190
    assert min(np.bincount(test.y, minlength=3)) >= 50  # stratified: each class is there


@needs_artifacts
def test_label_reads_the_conversation_head():
    from companion.affect.ekman_conversation import label_from_head
    from companion.affect.heads import EKMAN_LABEL_HEAD, AffectHeads

    heads = AffectHeads.load(ARTIFACTS)
    conv = heads.heads[EKMAN_LABEL_HEAD]  # shipped: ekman.label has its own head
    feats = np.random.default_rng(0).standard_normal((64, heads.norm.config["dim"])).astype(np.float32) * 0.05
    out = heads.predict(feats)
    with torch.no_grad():
        x = heads.norm(torch.from_numpy(feats))
        want = label_from_head(torch.sigmoid(conv(x)).numpy(), np.asarray(conv.config["extra"]["label_bias"]))
        # the score view is the GoEmotions-only ekman head, untouched by the label head
        assert "label_bias" not in heads.heads["ekman"].config["extra"]
    assert (out.ekman_label == want).all()


@needs_artifacts
def test_twitch_test_split_macro_f1(affect_model, data_dir, tmp_path):
    from companion.affect.features_cache import EncoderSpec
    from companion.affect.lora import artifact_adapter
    from companion.affect.sentiment_eval import twitch_rows

    if not (data_dir / "twitch_sentiment" / "labels.csv").exists():
        pytest.skip("Twitch-Sentiment data not present")
    spec = EncoderSpec(artifact_adapter(ARTIFACTS), "bf16", _encoder=affect_model[0])
    rows = twitch_rows(affect_model[1], data_dir, ARTIFACTS, tmp_path, spec)
    assert rows["twitch_sentiment_test_n"] >= 190
    # shipped: 0.723 (ensemble), 0.676 (head alone); the stop-11 artifacts scored 0.618 / 0.492
    assert rows["twitch_sentiment_test_macro_f1"] >= 0.70
    assert rows["twitch_sentiment_test_head_only_macro_f1"] >= 0.65
    # the ensemble earns its place over the lexicons alone (the degraded mode)
    assert rows["twitch_sentiment_test_macro_f1"] > rows["twitch_sentiment_test_lexicon_only_macro_f1"]


@needs_artifacts
def test_meld_through_ekman_label(affect_model, data_dir):
    from companion.affect.sentiment_eval import meld_ekman_rows

    me = ds.meld(data_dir, "test")
    rows = meld_ekman_rows(affect_model[1], affect_model[0].encode(me.texts[:MELD_N]).features, me.y[:MELD_N, 0])
    # shipped: 0.600 on this slice (0.599 on the whole test split); the GoEmotions-only head: ~0.40
    assert rows["meld_ekman_label_weighted_f1"] >= 0.57


def test_ekman_heads_score_view_without_meld_label_view_with():
    from companion.affect.ekman_conversation import train_ekman_head
    from companion.affect.train import fit

    g = torch.Generator().manual_seed(0)
    x_go, x_meld = torch.randn(96, 16, generator=g), torch.randn(64, 16, generator=g)
    y_go = (torch.rand(96, 7, generator=g) > 0.7).float().numpy()
    y_meld = np.arange(64) % 7
    go_dev = (x_go[:32], y_go[:32], torch.rand(32, 28, generator=g))
    score, rep = train_ekman_head(fit, x_go, y_go, x_meld, None, go_dev, None, 16, 1)
    assert "label_bias" not in score.config["extra"] and rep["meld_weight"] == 0.0
    label, rep = train_ekman_head(fit, x_go, y_go, x_meld, y_meld, go_dev, (x_meld[:32], y_meld[:32]), 16, 1)
    assert len(label.config["extra"]["label_bias"]) == 7 and rep["meld_weight"] > 0
    assert len(score.config["extra"]["thresholds"]) == 7
