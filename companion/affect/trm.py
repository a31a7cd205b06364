"""TRM PAD refiner (seed "LIMINAL"): a tiny recursive model that refines (answer, latent) over K steps.

x = proj(features) (128-d). Starting from y0 = 0, z0 = 0, each step k:
    z <- z + core([x, y, z])          (latent update, shared weights across steps)
    y <- tanh(y_head([z, y]))         (answer: Pleasure, Arousal, Dominance in -1..1)
    c <- sigmoid(conf_head(z))        (confidence of this step's answer)
Deep supervision: the loss averages every step's answer loss plus a confidence loss whose target is
exp(-|error| / 0.2) of that step (detached), so confidence learns to track accuracy.
"""
from __future__ import annotations

import torch
from torch import nn

from companion.affect.modules import SavedModule


class TRMRefiner(SavedModule):
    def __init__(self, in_dim: int, latent: int = 128, hidden: int = 256, steps: int = 5,
                 dropout: float = 0.2, extra: dict | None = None) -> None:
        super().__init__(in_dim=in_dim, latent=latent, hidden=hidden, steps=steps, dropout=dropout,
                         extra=extra or {})
        self.proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, latent), nn.LayerNorm(latent))
        self.core = nn.Sequential(nn.Linear(2 * latent + 3, hidden), nn.GELU(), nn.Linear(hidden, latent))
        self.norm = nn.LayerNorm(latent)
        self.y_head = nn.Linear(latent + 3, 3)
        self.conf_head = nn.Linear(latent, 1)

    def forward(self, x: torch.Tensor, steps: int | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per-step answers (n, 3) and confidences (n,)."""
        k = steps or self.config["steps"]
        h = self.proj(x)
        y = torch.zeros(x.shape[0], 3, device=x.device)
        z = torch.zeros_like(h)
        ys, cs = [], []
        for _ in range(k):
            z = self.norm(z + self.core(torch.cat([h, y, z], dim=1)))
            y = torch.tanh(self.y_head(torch.cat([z, y], dim=1)))
            ys.append(y)
            cs.append(torch.sigmoid(self.conf_head(z)).squeeze(1))
        return ys, cs

    @staticmethod
    def loss(ys: list[torch.Tensor], cs: list[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
        total = 0.0
        for y, c in zip(ys, cs):
            err = (y - target).abs().mean(1)
            total = total + ((y - target) ** 2).mean() + 0.1 * nn.functional.binary_cross_entropy(
                c, torch.exp(-err.detach() / 0.2))
        return total / len(ys)
