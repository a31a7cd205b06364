"""all-MiniLM-L6-v2 at inference: a plain-torch BERT encoder and the Rust WordPiece tokenizer.

Why not ``transformers.AutoModel``: importing ``modeling_bert`` pulls in torch.dynamo and
torch.distributed.tensor, about 2 s on the 2-core machines, which alone broke ``Analyzer.load``'s
3 s budget. The forward pass of a 6-layer BERT is short, so it is written out here with the same
module names as ``transformers.BertModel``: the package's safetensors load as they are, and the
LoRA merge (``lora.merge_lora``) finds the same Linear layers. ``tests/test_minilm.py`` checks the
outputs against ``transformers`` (still used for fine-tuning, where peft needs it).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F


class _Embeddings(nn.Module):
    def __init__(self, cfg: dict) -> None:
        super().__init__()
        d = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], d, padding_idx=cfg.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], d)
        self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], d)
        self.LayerNorm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        # Single-segment input: token type 0 everywhere.
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)


class _DenseNorm(nn.Module):
    """Dense, then LayerNorm over (dense output + residual): BERT's ``*Output`` blocks."""

    def __init__(self, d_in: int, d: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d)
        self.LayerNorm = nn.LayerNorm(d, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, d: int, eps: float) -> None:
        super().__init__()
        self.self = _SelfAttention(d)
        self.output = _DenseNorm(d, d, eps)


class _Dense(nn.Module):
    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)


class _Layer(nn.Module):
    def __init__(self, cfg: dict) -> None:
        super().__init__()
        d, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
        self.heads = cfg["num_attention_heads"]
        self.attention = _Attention(d, eps)
        self.intermediate = _Dense(d, cfg["intermediate_size"])
        self.output = _DenseNorm(cfg["intermediate_size"], d, eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        sa = self.attention.self

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(split(sa.query(x)), split(sa.key(x)), split(sa.value(x)),
                                             attn_mask=bias)
        x = self.attention.output(ctx.transpose(1, 2).reshape(b, n, d), x)
        return self.output(F.gelu(self.intermediate.dense(x)), x)


class _Encoder(nn.Module):
    def __init__(self, cfg: dict) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(cfg) for _ in range(cfg["num_hidden_layers"]))


class MiniLM(nn.Module):
    """BERT encoder; ``forward`` returns every hidden state (embeddings first), like
    ``BertModel(..., output_hidden_states=True).hidden_states``."""

    def __init__(self, cfg: dict) -> None:
        super().__init__()
        if cfg.get("position_embedding_type", "absolute") != "absolute" or cfg.get("hidden_act") != "gelu":
            raise ValueError("MiniLM supports absolute positions and exact GELU only")
        self.config = cfg
        self.embeddings = _Embeddings(cfg)
        self.encoder = _Encoder(cfg)

    @classmethod
    def from_folder(cls, folder: Path) -> "MiniLM":
        """Build from a Hugging Face model folder (``config.json`` + ``model.safetensors``)."""
        folder = Path(folder)
        model = cls(json.loads((folder / "config.json").read_text()))
        state = {k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()
                 if not k.removeprefix("bert.").startswith(("pooler.", "embeddings.position_ids"))}
        model.load_state_dict(state, strict=True)
        return model.eval()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> list[torch.Tensor]:
        x = self.embeddings(input_ids)
        # Additive key mask, in the activations' dtype; -inf would give NaN rows for all-pad keys.
        bias = ((1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min)
        states = [x]
        for layer in self.encoder.layer:
            x = layer(x, bias)
            states.append(x)
        return states


def load_tokenizer(folder: Path, max_len: int):
    """The model's fast WordPiece tokenizer (``tokenizer.json``), truncating at ``max_len`` tokens
    and never padding (the encoder pads each length bucket itself)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return tok

