"""The load-time LoRA merge gives exactly what peft computes with the adapter attached."""
from __future__ import annotations

import os

import pytest
import torch

from companion.affect.encoder import minilm_path
from companion.affect.lora import adapter_tag, artifact_adapter, merge_lora, peft_config


@pytest.fixture(scope="module")
def base():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(minilm_path()))
    return tok, lambda: AutoModel.from_pretrained(str(minilm_path())).eval()


@torch.no_grad()
def test_merge_matches_peft(base, tmp_path):
    from peft import get_peft_model

    tok, fresh = base
    cfg = peft_config()
    cfg.init_lora_weights = False  # random A and B, so the update is far from zero
    torch.manual_seed(0)
    peft_model = get_peft_model(fresh(), cfg).eval()
    peft_model.save_pretrained(str(tmp_path))
    batch = tok(["PogChamp what a play", "hello chat"], padding=True, return_tensors="pt")
    want = peft_model(**batch).last_hidden_state
    stock = fresh()
    before = stock(**batch).last_hidden_state
    merged = fresh()
    n = merge_lora(merged, tmp_path)
    got = merged(**batch).last_hidden_state
    assert n == 18  # 6 matrices in each of the top three layers
    assert (want - before).abs().max() > 1e-2  # the adapter really changes the output
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert adapter_tag(tmp_path).startswith("lora-") and adapter_tag(None) == "frozen"


def test_artifact_adapter_absent(tmp_path):
    assert artifact_adapter(tmp_path) is None
