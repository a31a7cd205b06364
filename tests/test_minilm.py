"""The plain-torch MiniLM and its tokenizer give what ``transformers`` gives."""
from __future__ import annotations

import os

import pytest
import torch

from companion.affect.encoder import minilm_path
from companion.affect.lora import artifact_adapter, merge_lora
from companion.affect.minilm import MiniLM, load_tokenizer
from companion.analyzer import DEFAULT_ARTIFACTS

TEXTS = ["PogChamp what a play!!", "", "hello chat", "😂😂😂 KEKW", "Z̷̢a̵l̶g̸o̴ text",
         "これは日本語のチャットです", "<script>alert(1)</script>", "word " * 200, "Ça va? señor naïve"]


@pytest.fixture(scope="module")
def reference():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    return (AutoTokenizer.from_pretrained(str(minilm_path())),
            lambda: AutoModel.from_pretrained(str(minilm_path())).eval())


def test_tokenizer_matches_transformers(reference):
    tok, _ = reference
    want = tok(TEXTS, truncation=True, max_length=128)["input_ids"]
    got = [e.ids for e in load_tokenizer(minilm_path(), 128).encode_batch(TEXTS)]
    assert got == want
    assert len(got[7]) == 128  # truncated, never padded
    assert len(got[1]) == 2  # [CLS] [SEP]


@torch.no_grad()
@pytest.mark.parametrize("adapter", [False, True])
def test_hidden_states_match_transformers(reference, adapter):
    tok, fresh = reference
    want_model, got_model = fresh(), MiniLM.from_folder(minilm_path())
    if adapter:
        folder = artifact_adapter(DEFAULT_ARTIFACTS)
        assert folder is not None
        assert merge_lora(want_model, folder) == merge_lora(got_model, folder) == 18
    batch = tok(TEXTS, padding=True, truncation=True, max_length=128, return_tensors="pt")
    want = want_model(**batch, output_hidden_states=True).hidden_states
    got = got_model(batch["input_ids"], batch["attention_mask"])
    assert len(got) == len(want) == 7
    mask = batch["attention_mask"].bool()
    for g, w in zip(got, want):
        # Padded positions are never read (pooling masks them), so compare real tokens only.
        torch.testing.assert_close(g[mask], w[mask], atol=2e-4, rtol=1e-4)
