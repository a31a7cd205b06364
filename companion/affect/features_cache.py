"""Encode every data set split once with the frozen encoder and cache the features (npy, float16)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from companion.affect import datasets as ds
from companion.affect.encoder import SharedEncoder

DEFAULT_CACHE = Path("/tmp/companion_affect_cache")


def all_splits(data: Path, artifacts: Path) -> dict[str, ds.Split]:
    """Every split used in training/evaluation, keyed ``task_split``."""
    ids = ds.davidson_split_ids(data, artifacts / "davidson_split.json")
    out: dict[str, ds.Split] = {}
    for s in ("train", "dev", "test"):
        out[f"goemotions_{s}"] = ds.goemotions(data, s)
        out[f"emobank_{s}"] = ds.emobank(data, s)
        out[f"meld_{s}"] = ds.meld(data, s)
        out[f"davidson_{s}"] = ds.davidson(data, s, ids)
        out[f"intimacy_{s}"] = ds.intimacy(data, s)
        out[f"politeness-wiki_{s}"] = ds.politeness(data, "wikipedia", s)
    out["intimacy_external"] = ds.intimacy(data, "external")
    out["politeness-se_all"] = ds.politeness(data, "stack-exchange", "all")
    return out


def cached_features(name: str, texts: list[str], cache: Path, encoder: SharedEncoder | None) -> np.ndarray:
    """Load ``name``'s features from the cache, computing them with ``encoder`` when missing."""
    path = cache / f"{name}.npy"
    if path.exists():
        return np.load(path).astype(np.float32)
    assert encoder is not None
    t = time.time()
    feats = encoder.encode(texts, batch_size=64, progress=True).features
    np.save(path, feats.astype(np.float16))
    print(f"cached {name}: {len(texts)} texts in {time.time() - t:.0f}s", flush=True)
    return feats


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ds.default_data_dir())
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--artifacts", type=Path, default=Path(__file__).parent / "artifacts")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    a.cache.mkdir(parents=True, exist_ok=True)
    a.artifacts.mkdir(parents=True, exist_ok=True)
    splits = all_splits(a.data, a.artifacts)
    enc = SharedEncoder()
    # smallest first so early heads can start training while the rest encode
    for name, sp in sorted(splits.items(), key=lambda kv: len(kv[1].texts)):
        cached_features(name, sp.texts, a.cache, enc)


if __name__ == "__main__":
    main()
