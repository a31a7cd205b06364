"""Named model modules. Each saves/loads its own ``config.json`` + ``model.safetensors`` in a folder
(the sentence-transformers convention), so a model is a composition of small, separately stored parts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors.torch import load_file, save_file
from torch import nn


class SavedModule(nn.Module):
    """A module rebuilt from ``config`` (a JSON-able dict) plus its weights."""

    registry: ClassVar[dict[str, type["SavedModule"]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        SavedModule.registry[cls.__name__] = cls

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = dict(config)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps({"class": type(self).__name__, **self.config}, indent=1))
        # stored as float16 to keep the committed artifacts small; loaded back into float32
        state = {k: (v.half() if v.is_floating_point() else v).detach().contiguous().cpu()
                 for k, v in self.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"))

    @staticmethod
    def load(folder: Path) -> "SavedModule":
        cfg = json.loads((folder / "config.json").read_text())
        cls = SavedModule.registry[cfg.pop("class")]
        m = cls(**cfg)
        m.load_state_dict(load_file(str(folder / "model.safetensors")))
        m.eval()
        return m


class FeatureProjector(SavedModule):
    """Standardises the encoder's head features and projects them on their top-``k`` principal
    components (fitted on the training features), so every head is small."""

    def __init__(self, dim: int, k: int = 512) -> None:
        super().__init__(dim=dim, k=k)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("components", torch.zeros(k, dim))
        self.register_buffer("scale", torch.ones(1))

    def fit(self, x: torch.Tensor, seed: int = 0) -> "FeatureProjector":
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp(min=1e-4))
        z = (x - self.mean) / self.std
        g = torch.Generator().manual_seed(seed)
        sub = z[torch.randperm(len(z), generator=g)[:30000]]
        _, _, vh = torch.linalg.svd(sub, full_matrices=False)
        self.components.copy_(vh[: self.config["k"]])
        self.scale.copy_((z[:5000] @ self.components.T).std(0).mean())
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / self.std) @ self.components.T / self.scale


class MLPHead(SavedModule):
    """Dropout -> Linear -> GELU -> Dropout -> Linear. ``extra`` holds task settings (labels, thresholds)."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 512, dropout: float = 0.3,
                 extra: dict | None = None) -> None:
        super().__init__(in_dim=in_dim, out_dim=out_dim, hidden=hidden, dropout=dropout, extra=extra or {})
        if hidden > 0:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.GELU(),
                                     nn.Dropout(dropout / 2), nn.Linear(hidden, out_dim))
        else:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_dim, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
