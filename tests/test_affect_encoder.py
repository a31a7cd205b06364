"""The shared encoder's input (emoji named) and batching (length buckets, order restoration)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.affect.encoder import SharedEncoder, encoder_text, length_buckets


def test_length_buckets_cover_in_order_and_split_outliers():
    lengths = sorted([12] * 60 + [60] * 4)
    cuts = length_buckets(lengths, overhead=80)
    assert cuts[0][0] == 0 and cuts[-1][1] == len(lengths)
    assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))  # contiguous, nothing lost
    assert cuts == [(0, 60), (60, 64)]  # four long lines don't pad the sixty short ones
    assert length_buckets([10] * 64, overhead=80) == [(0, 64)]  # equal lengths: one call
    assert length_buckets([], overhead=80) == []


def test_encoder_text_names_emoji_once_per_run():
    assert encoder_text("boss is enraged 😱😱 😱") == "boss is enraged face screaming in fear"
    assert encoder_text("😂 lol 😂") == "face with tears of joy lol face with tears of joy"  # not a run
    assert encoder_text("gg <b>ez</b>") == "gg <b>ez</b>"  # ASCII passes through untouched
    assert encoder_text("Ça va? 日本語") == "Ça va? 日本語"
    assert encoder_text("👍🏽") == "thumbs up medium skin tone"
    assert encoder_text("") == ""
    assert len(encoder_text("é" * 10_000 + "😂")) == 2000  # long lines are cut before the scan


@pytest.fixture(scope="module")
def encoder():
    torch.set_num_threads(2)
    return SharedEncoder(precision="fp32")


def test_encode_restores_order_and_ignores_batch_mates(encoder):
    texts = ["gg", "what a clutch play by the streamer, absolutely insane " * 4, "", "PogChamp", "hello chat"]
    both = encoder.encode(texts)
    alone = [encoder.encode([t]) for t in texts]
    for i in range(len(texts)):
        assert np.allclose(both.embedding[i], alone[i].embedding[0], atol=1e-4)
        assert np.allclose(both.features[i], alone[i].features[0], atol=1e-3)
    assert np.allclose(np.linalg.norm(both.embedding, axis=1), 1.0, atol=1e-4)
