"""HELM conversation mood tracker: a GRU over the last N turns of a conversation (a channel).

Each turn's input is proj(encoder features) plus that turn's frozen emotion/sentiment head
outputs and a same-speaker flag; left-padded windows carry a padding flag. The final state
predicts the current turn's emotion (7, MELD/Ekman) and sentiment (3). With ``window=1`` it is the
same model without context (the ablation).
"""
from __future__ import annotations

import torch
from torch import nn

from companion.affect.modules import SavedModule


class MoodTracker(SavedModule):
    def __init__(self, in_dim: int, aux_dim: int, latent: int = 128, window: int = 8,
                 dropout: float = 0.3, extra: dict | None = None) -> None:
        super().__init__(in_dim=in_dim, aux_dim=aux_dim, latent=latent, window=window, dropout=dropout,
                         extra=extra or {})
        self.proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, latent), nn.GELU())
        self.gru = nn.GRU(latent + aux_dim + 2, latent, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.emotion = nn.Linear(latent * 2, 7)
        self.sentiment = nn.Linear(latent * 2, 3)

    def forward(self, feats: torch.Tensor, aux: torch.Tensor, same: torch.Tensor,
                pad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """feats (B, N, in_dim), aux (B, N, aux_dim), same/pad (B, N) -> emotion, sentiment logits."""
        h = self.proj(feats) * (1 - pad).unsqueeze(-1)
        inp = torch.cat([h, aux * (1 - pad).unsqueeze(-1), same.unsqueeze(-1), pad.unsqueeze(-1)], dim=-1)
        out, _ = self.gru(inp)
        last = torch.cat([out[:, -1], h[:, -1]], dim=1)
        last = self.drop(last)
        return self.emotion(last), self.sentiment(last)
