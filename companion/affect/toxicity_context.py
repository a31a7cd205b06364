"""Does context help the toxicity decision? A dev comparison on CONDA (Dota 2 match chat).

    python -m companion.affect.toxicity_context --data ../shared/data

CONDA keeps each line's match, player slot and chat time, so each utterance has the match chat
before it (the "channel's recent lines") and the same player's previous line (the "user's previous
line"). GameTox has no conversation ids, so it cannot take part. Two heads with one recipe
(``MLPHead``, ``train.fit``, early stopping on CONDA dev) are trained on CONDA train:

- ``message``: the utterance's projected features alone;
- ``context``: the utterance, the mean of the previous ``--window`` lines of the match, the same
  player's previous line, and two presence flags.

It prints CONDA dev macro-F1 (4 intents) and toxic-vs-not F1 for both. The shipped head stays
per-message unless ``context`` wins on dev by more than ``MIN_GAIN`` (docs/BENCHMARKS.md has the run).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from companion.affect import datasets as ds
from companion.affect import metrics as M
from companion.affect.features_cache import DEFAULT_CACHE, EncoderSpec, cached_features
from companion.affect.modules import MLPHead, SavedModule

MIN_GAIN = 0.01  # dev macro-F1 the context head must add to be worth a per-channel state


def context_features(x: np.ndarray, sp: ds.Split, window: int) -> np.ndarray:
    """[message, mean of the previous ``window`` match lines, the player's previous line, flags]."""
    n, d = x.shape
    out = np.zeros((n, 3 * d + 2), dtype=np.float32)
    match, player = sp.meta["match"], sp.meta["player"]
    start = 0
    for i in range(n):  # rows are sorted by match, conversation, time
        if i == 0 or match[i] != match[i - 1]:
            start = i
        out[i, :d] = x[i]
        lo = max(start, i - window)
        if i > lo:
            out[i, d:2 * d] = x[lo:i].mean(0)
            out[i, 3 * d] = 1.0
        for j in range(i - 1, start - 1, -1):
            if player[j] == player[i]:
                out[i, 2 * d:3 * d] = x[j]
                out[i, 3 * d + 1] = 1.0
                break
    return out


def compare(data: Path, artifacts: Path, cache: Path, window: int = 3, epochs: int = 12, seed: int = ds.SEED) -> dict:
    """Train both heads on CONDA train; their CONDA dev figures."""
    from companion.affect.lora import artifact_adapter
    from companion.affect.train import fit, seed_all

    spec = EncoderSpec(artifact_adapter(artifacts), "bf16")
    norm = SavedModule.load(artifacts / "feature_norm")
    sets = {}
    for split in ("train", "dev"):
        sp = ds.conda(data, split)
        with torch.no_grad():
            x = norm(torch.from_numpy(cached_features(f"conda_{split}", sp.texts, cache, spec))).numpy()
        sets[split] = (sp, x)
    out: dict = {"window": window}
    for tag in ("message", "context"):
        Xtr = sets["train"][1] if tag == "message" else context_features(sets["train"][1], sets["train"][0], window)
        Xdv = sets["dev"][1] if tag == "message" else context_features(sets["dev"][1], sets["dev"][0], window)
        Xtr_t, Xdv_t = torch.from_numpy(Xtr), torch.from_numpy(Xdv)
        ytr, ydv = torch.from_numpy(sets["train"][0].y), sets["dev"][0].y
        seed_all(seed)
        m = MLPHead(Xtr.shape[1], 4, hidden=512, dropout=0.3)
        ce = nn.CrossEntropyLoss()
        m, best = fit(m, Xtr_t, ytr, lambda m, x, y: ce(m(x), y),
                      lambda m=m: M.macro_f1(ydv, m(Xdv_t).argmax(1).numpy()), epochs, lr=3e-4, bs=256,
                      patience=3, desc=f"conda_{tag}")
        pred = m(Xdv_t).argmax(1).numpy()
        out[tag] = {"dev_macro_f1": best, "dev_toxic_f1": float(M.f1_score(np.isin(ydv, (0, 1)), np.isin(pred, (0, 1))))}
    out["gain"] = out["context"]["dev_macro_f1"] - out["message"]["dev_macro_f1"]
    out["keep_context"] = bool(out["gain"] > MIN_GAIN)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ds.default_data_dir())
    p.add_argument("--artifacts", type=Path, default=Path(__file__).parent / "artifacts")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--window", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(json.dumps(compare(a.data, a.artifacts, a.cache, a.window), indent=1))


if __name__ == "__main__":
    main()
